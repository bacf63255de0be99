// main: picks the personality from argv[0] and hands over. Nothing else.
#include "smcroute/runtime/app.hpp"

#include <string_view>
#include <vector>

int main(int argc, char** argv)
{
    std::vector<std::string_view> args(argv + 1, argv + argc);
    return smcroute::run_app(argc > 0 ? argv[0] : "smcroute", args);
}
