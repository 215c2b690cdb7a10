export function parseMicroOutput(
  text: string,
): { name: string; hz?: number; rme?: number; runs?: number; value?: number }[];
