// Where the build put its executables (build/<preset>/bin).
#pragma once

#include <string>

namespace sluice::testing {

// bin_path("sluice-testserver") -> "<build dir>/bin/sluice-testserver".
std::string bin_path(const std::string& name);

}  // namespace sluice::testing
