#include "config/yaml_document.h"

#include <yaml-cpp/eventhandler.h>

#include <exception>
#include <optional>
#include <sstream>

namespace sluice::config {
namespace {

// Notes where each document starts and ignores everything else.
class DocumentCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ == 2) second_start_ = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  int documents() const { return documents_; }
  const YAML::Mark& second_start() const { return second_start_; }

 private:
  int documents_ = 0;
  YAML::Mark second_start_;
};

// Where a second document starts, if there is one. Asks the parser for at most two documents:
// yaml-cpp 0.7 yields empty documents forever after a stray top-level ',', so YAML::LoadAll
// never returns on such input (found by fuzz_config).
std::optional<YAML::Mark> second_document(const std::string& yaml) {
  std::istringstream input(yaml);
  YAML::Parser parser(input);
  DocumentCounter counter;
  for (int i = 0; i < 2 && parser.HandleNextDocument(counter); ++i) {
  }
  if (counter.documents() < 2) return std::nullopt;
  return counter.second_start();
}

}  // namespace

ConfigError error_at_mark(std::string_view file, const YAML::Mark& mark, std::string message) {
  ConfigError error{std::string(file), 0, 0, "", std::move(message)};
  if (!mark.is_null()) {
    error.line = mark.line + 1;
    error.column = mark.column + 1;
  }
  return error;
}

Expected<YAML::Node, ConfigError> load_single_document(std::string_view yaml,
                                                       std::string_view file) {
  try {
    const std::string text(yaml);
    YAML::Node root = YAML::Load(text);
    if (auto second = second_document(text)) {
      return Unexpected<ConfigError>(error_at_mark(
          file, *second, "unexpected content after the first YAML document (only one is allowed)"));
    }
    return root;
  } catch (const YAML::Exception& e) {
    return Unexpected<ConfigError>(error_at_mark(file, e.mark, e.msg));
  } catch (const std::exception& e) {
    return Unexpected<ConfigError>(ConfigError{std::string(file), 0, 0, "", e.what()});
  }
}

}  // namespace sluice::config
