/** Where pipec's stage workers spend their time, from V8 CPU profiles (BENCH_PROFILE). */
export function summarizeProfiles(dir: string): void {
  console.log(`profiles in ${dir}`);
}
