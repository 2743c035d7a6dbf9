// One check of `keygate doctor`: what was looked at, the verdict, and the fix when it failed.
export type Verdict = 'pass' | 'fail' | 'skip';

export interface Check {
  /** Stable id for scripts (`--json`), e.g. `home`, `discord.client`, `discord/work.connection`. */
  id: string;
  title: string;
  verdict: Verdict;
  detail: string;
  /** What to do, when the verdict is `fail`. */
  fix?: string;
}

export const pass = (id: string, title: string, detail: string): Check => ({ id, title, verdict: 'pass', detail });
export const skip = (id: string, title: string, detail: string): Check => ({ id, title, verdict: 'skip', detail });
export const fail = (id: string, title: string, detail: string, fix: string): Check => ({ id, title, verdict: 'fail', detail, fix });
