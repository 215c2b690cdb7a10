export function fmt(v: number): string;
export interface Bar {
  label: string;
  value: number;
  lo?: number;
  hi?: number;
  note?: string;
}
export function barPanels(opts: {
  title: string;
  subtitle?: string;
  unit: string;
  groups: { title: string; bars: Bar[] }[];
  labels: string[];
  columns?: number;
}): string;
export function heatMaps(opts: {
  title: string;
  subtitle?: string;
  unit: string;
  panels: { title: string; rows: string[]; cols: string[]; values: number[][] }[];
}): string;
export interface FlameNode {
  name: string;
  self: number;
  children: FlameNode[];
}
export function flameGraph(opts: { title: string; root: FlameNode; width?: number }): string;
