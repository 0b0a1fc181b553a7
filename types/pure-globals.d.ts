// The two web-standard globals the pure core may use (cancelling a run), declared for tsconfig.pure.json, which
// loads no Node types. Everything else Node offers (timers, process, Buffer, node: modules) stays unavailable there.
interface AbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
interface AbortController {
  readonly signal: AbortSignal;
  abort(reason?: unknown): void;
}
declare var AbortController: { prototype: AbortController; new (): AbortController };
