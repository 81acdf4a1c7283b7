// Runs each SQL statement given as an argument, in order, in one in-memory DuckDB, and prints one JSON array
// with each statement's rows (an array of row objects per statement) on stdout. The Parquet tests use it as an independent reader and writer.
import { DuckDBInstance } from '@duckdb/node-api';

const statements = process.argv.slice(2);
if (statements.length === 0) {
  console.error('usage: node query.mjs "<sql>" ["<sql>" ...]');
  process.exit(2);
}

try {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const results = [];
  for (const sql of statements) {
    const reader = await connection.runAndReadAll(sql);
    results.push(reader.getRowObjectsJson());
  }
  process.stdout.write(JSON.stringify(results));
  connection.closeSync();
} catch (error) {
  console.error(error?.message ?? String(error));
  process.exit(1);
}
