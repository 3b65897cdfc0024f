#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "lib/api/codec.h"
#include "lib/api/error.h"
#include "lib/api/names.h"

namespace kai::cli {

std::vector<json> read_manifest(const std::string& path) {
  if (path.empty()) throw Error::usage("a file is required: -f FILE (or -f - for standard input)");
  return api::decode_file(path);
}

void rethrow_for_file(const std::string& file, std::size_t index, std::size_t count) {
  const std::string where = (file == "-" ? std::string("<stdin>") : file) +
                            (count > 1 ? ": document " + std::to_string(index + 1) : std::string()) + ": ";
  try {
    throw;
  } catch (const Error& e) {
    if (!e.causes().empty()) {
      std::string msg;
      for (const auto& c : e.causes()) {
        if (!msg.empty()) msg += "; ";
        msg += c.field.empty() ? c.message : c.field + ": " + c.message;
      }
      throw Error(e.kind(), where + msg, e.causes());
    }
    throw Error(e.kind(), where + e.what(), e.causes());
  }
}

void print_list(Context& ctx, const api::ResourceInfo& res, const std::vector<json>& objs, bool single,
                const output::PrintOptions& opts, const std::string& ns_for_message) {
  auto spec = ctx.output_spec();
  const bool tabular = spec.format == output::Format::Table || spec.format == output::Format::Wide ||
                       spec.format == output::Format::Name || spec.format == output::Format::CustomColumns;
  if (objs.empty() && tabular) {
    if (res.namespaced && !ns_for_message.empty()) {
      ctx.err << "No resources found in " << ns_for_message << " namespace.\n";
    } else {
      ctx.err << "No resources found\n";
    }
    return;
  }
  ctx.out << output::print_objects(res, objs, single, spec, opts);
}

void validate_namespace(const std::string& ns) {
  auto problems = api::dns1123_label_errors(ns);
  if (!problems.empty()) {
    throw Error::invalid("invalid namespace \"" + ns + "\": " + problems.front());
  }
}

}  // namespace kai::cli
