// `mnkvm bench ...`: benchmarks (figures as JSON plus a report).
import { Command } from 'commander';

export function benchCommand(): Command {
  return new Command('bench').description('benchmarks');
}
