/**
 * One request first, the rest after its verdict. Huawei locks an AK after 5 consecutive signature failures and an
 * IAM user after repeated wrong passwords, so credentials that are not yet known to work are tried by one request
 * at a time (the probe), while the others wait:
 * - proven (the credentials work): everyone goes, from then on without waiting;
 * - refused (they cannot work): everyone waiting, and every later caller, gets the refusal, and nothing is sent;
 * - no verdict (a timeout, a 5xx): the next waiting caller becomes the probe.
 * One gate per run and credentials: a refusal lasts for the run, and the next run tries once more.
 */
export class ProbeGate {
  #state: 'unproven' | 'proven' | 'refused' = 'unproven';
  #refusal: (() => Error) | undefined;
  #probing = false;
  #waiting: Array<() => void> = [];

  get state(): 'unproven' | 'proven' | 'refused' {
    return this.#state;
  }

  /**
   * Resolves when the caller may send: at once once proven, else when it becomes the probe. Rejects with the
   * refusal once refused, or with the signal's reason when `signal` aborts first (a run's deadline).
   */
  async enter(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) {
        // Woken as the next probe but already aborted: hand the turn on, or the others would wait for nobody.
        if (this.#state === 'unproven' && !this.#probing) this.#waiting.shift()?.();
        throw signal.reason;
      }
      if (this.#state === 'proven') return;
      if (this.#state === 'refused') throw this.#refusal!();
      if (!this.#probing) {
        this.#probing = true;
        return;
      }
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          this.#waiting = this.#waiting.filter((w) => w !== wake);
          reject(signal!.reason);
        };
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        this.#waiting.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  /** The probe's answer proves the credentials: let everyone through. */
  prove(): void {
    if (this.#state !== 'unproven') return;
    this.#state = 'proven';
    this.#wakeAll();
  }

  /** The probe ended without a verdict: the next waiting caller becomes the probe. */
  release(): void {
    if (this.#state !== 'unproven') return;
    this.#probing = false;
    this.#waiting.shift()?.();
  }

  /** The credentials cannot work: `refusal` makes the error every caller gets from now on. */
  refuse(refusal: () => Error): void {
    this.#state = 'refused';
    this.#refusal = refusal;
    this.#wakeAll();
  }

  #wakeAll(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const wake of waiting) wake();
  }
}
