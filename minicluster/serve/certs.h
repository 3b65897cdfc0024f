#pragma once
// What `kai cluster serve` needs to serve HTTPS with a bearer token, made on first start into
// $KAI_HOME/serve (directory 0700, files 0600): a CA, a server certificate it signs for the
// loopback names and the listen address, and a random token.

#include <filesystem>
#include <string>

namespace kai::serve {

struct ServeFiles {
  std::filesystem::path dir;
  std::filesystem::path ca_crt, server_crt, server_key;
  std::string token;
};

/// Makes what is missing (a server certificate that does not name `address` is made again,
/// signed by the same CA). Throws kai::Error Unavailable naming the file on I/O errors.
ServeFiles ensure_serve_files(const std::filesystem::path& home, const std::string& address);

}  // namespace kai::serve
