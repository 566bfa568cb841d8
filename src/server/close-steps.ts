/**
 * A server's shutdown as a declared list of steps run one after another, in the order they are
 * listed (as Fastify runs its close hooks): each step may rely on every step before it having
 * finished. A step that fails is logged and the next one still runs, so one backend that
 * cannot close cleanly never leaves the others open.
 */
import type { Logger } from 'pino';

export interface CloseStep {
  /** Named in logs and in the `close-step` notices that tests follow. */
  readonly name: string;
  run(): unknown;
}

export async function runCloseSteps(steps: readonly CloseStep[], log: Logger, onStep: (name: string) => void = () => {}): Promise<void> {
  for (const step of steps) {
    onStep(step.name);
    try {
      await step.run();
    } catch (err) {
      log.error({ err, step: step.name }, 'shutdown step failed; going on with the next');
    }
  }
}
