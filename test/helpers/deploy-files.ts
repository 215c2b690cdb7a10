/** Small parsers for the shipped deploy files (no Docker engine or systemd needed to read them). */

export interface Instruction {
  /** 1-based line where the instruction starts. */
  line: number;
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  rest: string;
}

/** Dockerfile instructions: comments and blank lines dropped, backslash continuations joined. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    const start = i + 1;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = line.slice(0, -1) + ' ' + lines[++i]!.trim();
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile line ${start}: not an instruction: ${line}`);
    out.push({ line: start, keyword: m[1]!.toUpperCase(), rest: m[2]!.trim() });
  }
  return out;
}

/** `--flag=value` options at the start of an instruction's arguments, and the words after them. */
export function splitFlags(rest: string): { flags: Map<string, string>; words: string[] } {
  const flags = new Map<string, string>();
  const words = rest.split(/\s+/).filter((w) => w !== '');
  while (words[0]?.startsWith('--')) {
    const [k, v = ''] = words.shift()!.slice(2).split('=', 2);
    flags.set(k!, v);
  }
  return { flags, words };
}

/** A systemd unit file: section -> key -> every value given (keys may repeat). */
export function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let cur: Map<string, string[]> | undefined;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[([^\]]+)\]$/.exec(line);
    if (sec) {
      cur = new Map();
      sections.set(sec[1]!, cur);
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    if (!kv || !cur) throw new Error(`unit line ${i + 1}: not key=value inside a section: ${raw}`);
    const list = cur.get(kv[1]!) ?? [];
    list.push(kv[2]!);
    cur.set(kv[1]!, list);
  }
  return sections;
}

/** systemd and CLI durations (10s, 500ms, 1min, 1m, bare seconds) in milliseconds. */
export function durationMs(text: string): number {
  const m = /^(\d+)\s*(ms|s|sec|m|min)?$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text}`);
  const unit = m[2] ?? 's';
  return Number(m[1]) * (unit === 'ms' ? 1 : unit === 'm' || unit === 'min' ? 60000 : 1000);
}
