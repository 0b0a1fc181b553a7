// Entry point of the rbmctl executable.
console.error('rbmctl: not built yet');
process.exitCode = 70;
