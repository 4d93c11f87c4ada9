#include <cstdio>

// Until the engine and the port layer are wired, say so plainly instead of pretending.
int main() {
  std::fprintf(stderr, "midge: the broker engine is not built yet; nothing to run\n");
  return 1;
}
