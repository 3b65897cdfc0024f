#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  kai::cli::Context ctx(std::cout, std::cerr);
  return kai::cli::run(argc, argv, ctx);
}
