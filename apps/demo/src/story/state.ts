import type { Clinic } from '../clinic/clinic.js';
import type { ClinicMongo } from '../clinic/mongo.js';

/** What the story's steps share. */
export interface StoryState {
  readonly clinic: Clinic;
  /** Patient ids by e-mail, filled in step 2. */
  readonly ids: Map<string, string>;
  mongo?: ClinicMongo | undefined;
  /** Shows long work: a bar on a terminal, plain lines otherwise (never with --json). */
  readonly progress: (label: string, done: number, total: number) => void;
}

/** Shortens an envelope for display. */
export const short = (value: unknown): string => {
  const text = String(value);
  return text.length > 40 ? `${text.slice(0, 28)}…(${text.length} chars)` : text;
};

/** Whether any secret appears in any of `values`. */
export const leaks = (values: unknown, secrets: readonly string[]): string[] => {
  const text = JSON.stringify(values);
  return secrets.filter((s) => text.includes(s));
};
