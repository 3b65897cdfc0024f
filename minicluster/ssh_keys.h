#pragma once
// RSA key pairs for Volcano's ssh job plugin, made with OpenSSL: the private key as PEM
// ("RSA PRIVATE KEY", PKCS#1, as Volcano's plugin writes id_rsa) and the public key in OpenSSH's
// authorized_keys form ("ssh-rsa AAAA...\n", no comment, as Volcano writes id_rsa.pub).
// Error messages never quote a key.

#include <filesystem>
#include <string>

namespace kai::minicluster {

/// A new RSA private key of `bits` bits, PEM encoded. Throws kai::Error on failure.
std::string generate_rsa_private_key(int bits = 2048);

/// The OpenSSH public key ("ssh-rsa <base64>\n") of a PEM RSA private key. Throws kai::Error
/// Invalid when `private_pem` is not an unencrypted RSA private key.
std::string ssh_public_key(const std::string& private_pem);

/// The job's private key, kept in `file` (mode 0600, parents created 0700): read when it exists,
/// else generated and created there atomically, so concurrent callers (the supervisors of one
/// job's pods) all return the same key. Throws kai::Error when it cannot be read, created, or
/// holds no RSA private key.
std::string job_private_key(const std::filesystem::path& file);

}  // namespace kai::minicluster
