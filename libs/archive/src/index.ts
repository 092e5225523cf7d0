// Filled in by the archive work: stored originals, activity files in any format, and data export.
export {};
