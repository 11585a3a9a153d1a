/** Front-end import rules (`npm run deps`, run by scripts/test.sh next to tsc): no import circles in js/. */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A module that needs something from above takes it as a parameter or callback instead.",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-unresolvable",
      severity: "error",
      comment: "Every relative import names a file that exists.",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^js/tests/" },
    tsPreCompilationDeps: true,
  },
};
