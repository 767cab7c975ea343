// Pure: which pending migrations would destroy data or break the code still serving. An app
// lists them with `IMAGE migrate --dry-run` (docs/app-contract.md): one JSON line,
// {"pending": [names], "statements": {name: [sql]}}. Additive changes (a new table, a nullable
// column, an index) leave the old colour and a rollback working; these do not.

export interface MigrationPlan {
  pending: string[];
  statements: Record<string, string[]>;
}

export interface Destructive {
  migration: string;
  statement: string;
  why: string;
}

/** The last JSON line of the dry run, or undefined when there is none to read. */
export function parseMigrationPlan(stdout: string): MigrationPlan | undefined {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    const v = JSON.parse(line) as Partial<MigrationPlan>;
    if (!Array.isArray(v.pending)) return undefined;
    return { pending: v.pending.map(String), statements: v.statements ?? {} };
  } catch {
    return undefined;
  }
}

const RULES: [RegExp, string][] = [
  [/\bdrop\s+(table|database|schema)\b/i, 'drop a table'],
  [
    /\balter\s+table\b[\s\S]*\bdrop\s+(column\s+)?(?!(index|key|foreign|constraint|primary|check|default)\b)[`"\w]/i,
    'drop a column',
  ],
  [/\brename\s+(table|column)\b|\balter\s+table\b[\s\S]*\brename\b/i, 'rename a table or column'],
  [/\balter\s+table\b[\s\S]*\b(modify|change)\b/i, "change a column's type (it may narrow)"],
  [/\btruncate\b/i, 'empty a table'],
  [/^\s*delete\s+from\b/i, 'delete rows'],
];

/** Every statement of the pending migrations that a rule calls destructive, in order. */
export function destructiveStatements(plan: MigrationPlan): Destructive[] {
  return plan.pending.flatMap((migration) =>
    (plan.statements[migration] ?? []).flatMap((statement) => {
      const rule = RULES.find(([re]) => re.test(statement));
      return rule ? [{ migration, statement, why: rule[1] }] : [];
    }),
  );
}

/** One line for a refusal or a warning. */
export const describeDestructive = (d: Destructive) =>
  `${d.migration} would ${d.why}: ${d.statement.replace(/\s+/g, ' ').slice(0, 160)}`;
