// Preloaded (node --import) into a process the benchmark measures: prints its peak RSS on stderr as it exits.
process.on('exit', () => process.stderr.write(`MAXRSS_MIB ${Math.round(process.resourceUsage().maxRSS / 1024)}\n`));
