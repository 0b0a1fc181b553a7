// Entry point of the service executable.
console.error('rclone-bisync-manager: not built yet');
process.exitCode = 70;
