/**
 * Preloaded (`node --require`, or `--import` under tsx) into every process npm start supervises, which
 * gives each an IPC channel: when the supervisor is gone — even SIGKILLed, the channel closes — the
 * process stops as on SIGTERM, with its own clean shutdown, so no server outlives npm start.
 * Unreferenced, the channel keeps nothing running by itself.
 */
process.channel?.unref();
process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
