#include "support/bin_path.h"

namespace sluice::testing {

std::string bin_path(const std::string& name) { return std::string(SLUICE_BIN_DIR) + "/" + name; }

}  // namespace sluice::testing
