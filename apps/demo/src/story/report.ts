/** One check the story makes; the demo exits 0 only if every check held. */
interface Check {
  readonly name: string;
  readonly ok: boolean;
}

/** What one step did. */
export interface StepReport {
  readonly id: number;
  readonly title: string;
  readonly ok: boolean;
  readonly skipped?: string;
  readonly checks: readonly Check[];
  readonly lines: readonly string[];
  readonly data: Record<string, unknown>;
}

/** What a step can say and check while it runs. */
export interface StepScope {
  say(line?: string): void;
  /** Two columns side by side: what the application sees, what the database holds. */
  sideBySide(left: string, right: string, rows: ReadonlyArray<readonly [string, string]>): void;
  check(name: string, ok: boolean): boolean;
  skip(reason: string): void;
  readonly data: Record<string, unknown>;
}

const clip = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width));

/** Runs steps in order, printing a short readable section per step (or nothing, with --json). */
export class StoryRunner {
  readonly reports: StepReport[] = [];

  constructor(private readonly print: ((text: string) => void) | undefined) {}

  async step(id: number, title: string, run: (scope: StepScope) => Promise<void>): Promise<StepReport> {
    const checks: Check[] = [];
    const lines: string[] = [];
    const data: Record<string, unknown> = {};
    let skipped: string | undefined;
    const say = (line = '') => {
      lines.push(line);
      this.print?.(`  ${line}`);
    };
    this.print?.(`\n\u001b[1m${id}. ${title}\u001b[0m`);
    const scope: StepScope = {
      say,
      sideBySide(left, right, rows) {
        say(`${clip(left, 44)} │ ${right}`);
        for (const [l, r] of rows) say(`${clip(l, 44)} │ ${clip(r, 70)}`);
      },
      check(name, ok) {
        checks.push({ name, ok });
        this.say(`${ok ? '\u001b[32m✓\u001b[0m' : '\u001b[31m✗\u001b[0m'} ${name}`);
        return ok;
      },
      skip(reason) {
        skipped = reason;
        say(`skipped: ${reason}`);
      },
      data,
    };
    try {
      await run(scope);
    } catch (error) {
      const code = (error as { code?: unknown })?.code;
      scope.check(`step completed (failed with ${typeof code === 'string' ? code : String(error)})`, false);
    }
    const report: StepReport = { id, title, ok: checks.every((c) => c.ok), checks, lines, data, ...(skipped ? { skipped } : {}) };
    this.reports.push(report);
    return report;
  }

  get ok(): boolean {
    return this.reports.every((r) => r.ok);
  }
}
