// intstr.IntOrString helpers.

const PERCENT = /^[0-9]+%$/;

export function isValidPercent(value: string): boolean {
  return PERCENT.test(value);
}

/** intstr.GetScaledValueFromIntOrPercent; throws on a malformed string. */
export function scaledValue(value: number | string | undefined, total: number, roundUp: boolean): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  if (/^-?\d+$/.test(value)) return Number(value);
  if (!isValidPercent(value)) throw new Error(`invalid value for IntOrString: invalid value "${value}"`);
  const pct = Number(value.slice(0, -1));
  const raw = (pct * total) / 100;
  return roundUp ? Math.ceil(raw) : Math.floor(raw);
}
