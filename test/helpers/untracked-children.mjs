// untracked-children.mjs: preloaded into every test process (package.json, tap.node-arg) so that
// the processes tests start run without tap's process tracking.
//
// tap's @tapjs/processinfo adds an `--import` of itself to the NODE_OPTIONS of every process a
// test spawns (through the process-on-spawn hook) to follow them for coverage, which this suite
// turns off. Every pvkvm process (the CLI and both daemons) then loads it: over a second more per
// `pvkvm run` on the 2-core project host, hundreds of times per run of the suite.
const hook = globalThis[Symbol.for('process-on-spawn@*:singletonId')];
if (hook) hook.listeners.splice(0);
if (process.env.NODE_OPTIONS) {
  process.env.NODE_OPTIONS = process.env.NODE_OPTIONS.split(/\s+/).filter((w) => w && !w.includes('@tapjs/processinfo')).join(' ');
}
