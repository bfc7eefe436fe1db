/**
 * `check` (README, commands): one result per verification, each saying what is
 * wrong and how to fix it.
 */
export interface CheckResult {
  /** What was checked, e.g. `AMI login`. */
  name: string;
  ok: boolean;
  /** On success what was found; on failure what is wrong and how to fix it. */
  detail: string;
  /** Not run because an earlier check it depends on failed (counts as not ok). */
  skipped?: boolean;
  /** The error code behind a failure, when there is one. */
  code?: string;
  /** Passed, but something will not work as an administrator expects (printed WARN; exit code 0). */
  warning?: boolean;
}
