# Config parser: any input must give a Config or a ConfigError, never a crash or a hang.
sluice_fuzz(fuzz_config config_fuzz.cc sluice_config)
