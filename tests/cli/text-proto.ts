/**
 * A reader of protobuf text format (what Triton's config.pbtxt is), enough for model configs:
 * `field: value`, `field { … }`, `field [ v, … ]` and `field [ { … }, … ]`, with "strings",
 * numbers, identifiers (enum values, true/false) and # comments. Each field maps to the list of
 * values given for it; messages are nested maps. No schema: the caller checks the fields.
 */
export type TextValue = string | number | TextMessage;
export interface TextMessage { [field: string]: TextValue[] }

export function parseTextProto(text: string): TextMessage {
  const tokens = text.match(/"(?:[^"\\]|\\.)*"|[{}[\]:,]|[^\s{}[\]:,"#]+|#[^\n]*|\S/g)?.filter((t) => !t.startsWith('#')) ?? [];
  const stray = tokens.find((t) => t === '"');
  if (stray !== undefined) throw new Error('text proto: an unterminated string');
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const next = (what: string): string => {
    const t = tokens[i++];
    if (t === undefined) throw new Error(`text proto: expected ${what}, found the end`);
    return t;
  };
  const scalar = (t: string): string | number => {
    if (t.startsWith('"')) return JSON.parse(t) as string;
    if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(t)) return Number(t);
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(t)) return t;
    throw new Error(`text proto: bad value '${t}'`);
  };
  const value = (): TextValue => (peek() === '{' ? (next('{'), message('}')) : scalar(next('a value')));
  function message(end: string | undefined): TextMessage {
    const out: TextMessage = {};
    while (peek() !== end) {
      const name = next('a field name');
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`text proto: bad field name '${name}'`);
      if (peek() === ':') next(':');
      const list = (out[name] ??= []);
      if (peek() === '[') {
        next('[');
        while (peek() !== ']') {
          list.push(value());
          if (peek() === ',') next(',');
        }
        next(']');
      } else {
        list.push(value());
      }
      if (peek() === ',') next(',');
    }
    if (end !== undefined) next(end);
    return out;
  }
  return message(undefined);
}
