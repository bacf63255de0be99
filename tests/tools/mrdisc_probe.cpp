// mrdisc_probe: runs runtime/mrdisc (real raw sockets) on the named
// interfaces without the daemon, to check it on the wire by hand or from a
// test. SIGHUP toggles the interfaces off and on again (like a reload that
// drops and restores `phyint IF mrdisc`); SIGTERM/SIGINT or the end of
// SECONDS stop it, which sends the terminations.
//   mrdisc_probe [-m INTERVAL] [-w SECONDS] [-l LEVEL] IFNAME...
// Exit 0 on a clean run, 1 on errors, 2 on usage.
#include "smcroute/runtime/event_loop.hpp"
#include "smcroute/os/interfaces.hpp"
#include "smcroute/base/log.hpp"
#include "smcroute/runtime/mrdisc.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace smcroute;

int main(int argc, char** argv)
{
    long interval = 20;
    double seconds = 30;
    LogLevel level = LogLevel::debug;
    int opt;
    while ((opt = getopt(argc, argv, "m:w:l:")) != -1) {
        switch (opt) {
        case 'm':
            interval = std::atol(optarg);
            break;
        case 'w':
            seconds = std::atof(optarg);
            break;
        case 'l':
            if (auto l = parse_log_level(optarg))
                level = *l;
            break;
        default:
            std::fprintf(stderr, "usage: mrdisc_probe [-m INTERVAL] [-w SECONDS] [-l LEVEL] IFNAME...\n");
            return 2;
        }
    }
    if (optind >= argc || interval < 1 || interval > 255) {
        std::fprintf(stderr, "usage: mrdisc_probe [-m INTERVAL] [-w SECONDS] [-l LEVEL] IFNAME...\n");
        return 2;
    }
    auto all = list_interfaces();
    if (!all) {
        std::fprintf(stderr, "mrdisc_probe: %s\n", all.error().message.c_str());
        return 1;
    }
    std::vector<Interface> chosen;
    for (int i = optind; i < argc; ++i) {
        bool found = false;
        for (const auto& ifc : *all)
            if (ifc.name.view() == argv[i]) {
                chosen.push_back(ifc);
                found = true;
            }
        if (!found) {
            std::fprintf(stderr, "mrdisc_probe: no interface %s\n", argv[i]);
            return 1;
        }
    }
    Logger log;
    log.set_level(level);
    EventLoop loop;
    if (auto st = loop.init_signals({SIGTERM, SIGINT, SIGHUP}); !st) {
        std::fprintf(stderr, "mrdisc_probe: %s\n", st.error().message.c_str());
        return 1;
    }
    {
        Mrdisc md(loop, log, std::chrono::seconds(interval));
        bool on = true;
        md.set_interfaces(chosen);
        loop.on_signal(SIGTERM, [&] { loop.stop(); });
        loop.on_signal(SIGINT, [&] { loop.stop(); });
        loop.on_signal(SIGHUP, [&] {
            on = !on;
            md.set_interfaces(on ? chosen : std::vector<Interface>{});
        });
        loop.after(std::chrono::milliseconds(static_cast<long>(seconds * 1000)), [&] { loop.stop(); });
        if (auto st = loop.run(); !st) {
            std::fprintf(stderr, "mrdisc_probe: %s\n", st.error().message.c_str());
            return 1;
        }
    }
    return 0;
}
