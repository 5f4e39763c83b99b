# Endpoints file of file discovery: any input gives endpoints or an error, never a crash.
sluice_fuzz(fuzz_endpoints_file discovery_fuzz.cc sluice_discovery)
