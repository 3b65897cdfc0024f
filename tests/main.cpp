// Catch2's main, with one change: a run in which no test case matched fails. ctest runs each
// test case by name, and CMake cuts names at ';', so a name with one would otherwise "pass"
// without running anything.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

int main(int argc, char* argv[]) {
  Catch::Session session;
  if (int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  session.configData().warnings =
      static_cast<Catch::WarnAbout::What>(session.configData().warnings | Catch::WarnAbout::NoTests);
  return session.run();
}
