import { describeValue, problemsFromErrors } from '@ganpo/codecs';
import type * as t from 'io-ts';

/** One thing wrong with a row: where (a field path such as `chosen[0].content`) and what. */
export interface Issue {
  readonly path: string;
  readonly problem: string;
}

/** The path of a problem with the row itself (not one of its fields). */
export const ROOT_PATH = 'row';

export const renderIssue = (issue: Issue): string => `${issue.path}: ${issue.problem}`;

/**
 * io-ts validation errors as issues such as `chosen: expected string, got number`, through the formatter every
 * package shares (@ganpo/codecs). A row's values are shown by kind only (`number`, `empty string`): data may be long
 * or private, and the kind is what the user needs to fix the row.
 */
export function issuesFromValidationErrors(errors: t.Errors): Issue[] {
  return problemsFromErrors(errors, { show: describeValue }).map((p) => ({ path: p.path || ROOT_PATH, problem: p.reason }));
}

