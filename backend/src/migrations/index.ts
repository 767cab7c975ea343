import { Migration20261123000000_notes } from './Migration20261123000000_notes.ts';

// Every migration, in order. A new migration is added here as well as in its own file.
export const migrations = [{ name: 'Migration20261123000000_notes', class: Migration20261123000000_notes }];
