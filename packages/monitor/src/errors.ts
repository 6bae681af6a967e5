/**
 * The monitor's one error: an option that cannot work, found before anything listens. Requests
 * that go wrong are answered over HTTP (a status and a message) and never throw to the caller.
 */
import { CeleriacError } from '@celeriac/canvas';

/** The codes of {@link MonitorOptionError}. */
export type MonitorErrorCode = 'MONITOR_OPTION' | 'MONITOR_INSECURE';

/**
 * A monitor option is invalid (`MONITOR_OPTION`), or the monitor was asked to listen on an address
 * other hosts can reach with no `basicAuth` and without `insecure` (`MONITOR_INSECURE`). The
 * message names the option and what to pass instead.
 *
 * @example
 * ```ts
 * try {
 *   await startMonitor(app, { address: '0.0.0.0' });
 * } catch (error) {
 *   if (error instanceof MonitorOptionError) console.error(error.option, error.message);
 * }
 * ```
 */
export class MonitorOptionError extends CeleriacError<MonitorErrorCode> {
  /** The option at fault, e.g. `port` or `basicAuth`. */
  readonly option: string;

  constructor(option: string, message: string, code: MonitorErrorCode = 'MONITOR_OPTION') {
    super(code, `${option}: ${message}`);
    this.name = 'MonitorOptionError';
    this.option = option;
  }
}
