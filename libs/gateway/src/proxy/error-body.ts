// Engines word their error answers differently: vLLM nests them as OpenAI does
// (`{"error":{message,type,param,code}}`), SGLang's OpenAI server answers a flat
// `{"object":"error",message,type,param,code}`. OpenAI clients read the `error` key only (an SDK shows
// a flat body as "400 status code (no body)"), so the gateway nests a flat one. Pure.

/** The body to send for an engine's error answer: nested as OpenAI does, or unchanged. */
export function openAiErrorBody(body: Buffer): Buffer {
  if (body.length === 0 || body[0] !== 0x7b /* { */) return body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return body;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return body;
  const flat = parsed as Record<string, unknown>;
  if ('error' in flat || flat.object !== 'error' || typeof flat.message !== 'string') return body;
  const { object: _object, ...error } = flat;
  return Buffer.from(JSON.stringify({ error }));
}
