// runtime/mrdisc: per-interface RFC 4286 announcers over the EventLoop, with
// one raw socket per family (IGMP for IPv4, ICMPv6 for IPv6) that sends every
// message and receives solicitations.
#include "smcroute/runtime/mrdisc.hpp"

#include "smcroute/os/procfs.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>

namespace smcroute {

namespace {

using Clock = EventLoop::Clock;

std::chrono::milliseconds uniform_ms(std::mt19937_64& rng, int64_t lo, int64_t hi)
{
    std::uniform_int_distribution<int64_t> d(lo, hi);
    return std::chrono::milliseconds(d(rng));
}

// A small positive integer from a sysctl file, or fallback.
uint16_t read_sysctl(const char* path, uint16_t fallback)
{
    auto v = read_sysctl_int(path);
    if (v && *v > 0 && *v <= 0xffff)
        return static_cast<uint16_t>(*v);
    return fallback;
}

const char* type_name(MrdiscType t)
{
    switch (t) {
    case MrdiscType::advertisement:
        return "advertisement";
    case MrdiscType::solicitation:
        return "solicitation";
    case MrdiscType::termination:
        return "termination";
    }
    return "?";
}

} // namespace

std::chrono::milliseconds MrdiscSchedule::next(std::mt19937_64& rng)
{
    if (initial_left_ > 0) {
        --initial_left_;
        return uniform_ms(rng, 0, timing_.max_initial_interval.count());
    }
    auto j = timing_.jitter().count();
    auto i = timing_.interval.count();
    return uniform_ms(rng, std::max<int64_t>(0, i - j), i + j);
}

Mrdisc::Mrdisc(EventLoop& loop, Logger& log, std::chrono::seconds interval)
    : Mrdisc(loop, log, [&] {
          MrdiscOptions o;
          o.timing.interval = interval;
          return o;
      }())
{
}

Mrdisc::Mrdisc(EventLoop& loop, Logger& log, MrdiscOptions options)
    : loop_(loop), log_(log), options_(std::move(options))
{
    uint64_t seed = options_.seed;
    if (seed == 0) {
        std::random_device rd;
        seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    }
    rng_.seed(seed);
    if (options_.robustness) {
        robustness4_ = robustness6_ = options_.robustness;
    } else {
        robustness4_ = read_sysctl("/proc/sys/net/ipv4/igmp_qrv", 2);
        robustness6_ = read_sysctl("/proc/sys/net/ipv6/mld_qrv", 2);
    }
}

Mrdisc::~Mrdisc()
{
    stop();
    for (auto& [f, s] : sockets_)
        if (s.socket)
            loop_.unwatch(s.socket->fd());
}

void Mrdisc::stop()
{
    for (auto& [index, e] : entries_)
        finish(e, true);
    entries_.clear();
}

std::vector<unsigned> Mrdisc::active() const
{
    std::vector<unsigned> out;
    for (const auto& [index, e] : entries_)
        out.push_back(index);
    return out;
}

void Mrdisc::set_interfaces(const std::vector<Interface>& enabled)
{
    std::map<unsigned, const Interface*> want;
    for (const auto& i : enabled)
        if (i.index != 0 && i.up() && i.multicast())
            want[i.index] = &i;
    for (auto it = entries_.begin(); it != entries_.end();) {
        auto w = want.find(it->first);
        if (w == want.end()) {
            log_.info(cat("mrdisc: stopping on ", it->second.iface.name.str()));
            finish(it->second, true);
            it = entries_.erase(it);
        } else {
            it->second.iface.name = w->second->name; // renamed: same link
            it->second.iface.flags = w->second->flags;
            ++it;
        }
    }
    for (const auto& [index, iface] : want)
        if (!entries_.count(index))
            start(*iface);
}

void Mrdisc::start(const Interface& iface)
{
    Entry& e = entries_.emplace(iface.index, Entry{iface, {}}).first->second;
    for (Family f : {Family::inet, Family::inet6}) {
        if (!options_.send && !socket_for(f))
            continue;
        e.announcers.emplace(f, Announcer(options_.timing));
        join(f, iface.index, true);
        schedule_next(iface.index, f);
    }
    log_.info(cat("mrdisc: announcing on ", iface.name.str(), " every ",
                  std::chrono::duration_cast<std::chrono::seconds>(options_.timing.interval).count(), " s"));
}

void Mrdisc::finish(Entry& e, bool terminate)
{
    for (auto& [f, a] : e.announcers) {
        if (a.periodic)
            loop_.cancel(a.periodic);
        if (a.answer)
            loop_.cancel(a.answer);
        a.periodic = a.answer = 0;
        if (terminate) {
            MrdiscMessage m;
            m.type = MrdiscType::termination;
            send(e, f, m);
        }
        join(f, e.iface.index, false);
    }
    e.announcers.clear();
}

void Mrdisc::schedule_next(unsigned ifindex, Family f)
{
    auto& a = entries_.at(ifindex).announcers.at(f);
    auto delay = a.schedule.next(rng_);
    a.periodic = loop_.after(delay, [this, ifindex, f] {
        auto it = entries_.find(ifindex);
        if (it == entries_.end() || !it->second.announcers.count(f))
            return;
        it->second.announcers.at(f).periodic = 0;
        advertise(ifindex, f);
        schedule_next(ifindex, f);
    });
}

MrdiscMessage Mrdisc::advertisement(Family f) const
{
    MrdiscMessage m;
    m.type = MrdiscType::advertisement;
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(options_.timing.interval).count();
    m.interval = static_cast<uint8_t>(std::clamp<int64_t>(secs, 0, 255));
    m.query_interval = options_.query_interval;
    m.robustness = f == Family::inet ? robustness4_ : robustness6_;
    return m;
}

void Mrdisc::advertise(unsigned ifindex, Family f)
{
    auto it = entries_.find(ifindex);
    if (it == entries_.end() || !it->second.announcers.count(f))
        return;
    send(it->second, f, advertisement(f));
}

void Mrdisc::on_solicitation(Family f, unsigned ifindex)
{
    auto it = entries_.find(ifindex);
    if (it == entries_.end() || !it->second.announcers.count(f))
        return;
    auto& a = it->second.announcers.at(f);
    log_.debug(cat("mrdisc: ", family_name(f), " solicitation on ", it->second.iface.name.str()));
    if (a.answer) // an answer is already due: it covers this one too
        return;
    auto now = loop_.now();
    auto gap = options_.timing.min_message_gap;
    if (!a.sent_any || now - a.last_sent >= gap) {
        advertise(ifindex, f);
        return;
    }
    a.answer = loop_.after(a.last_sent + gap - now, [this, ifindex, f] {
        auto due = entries_.find(ifindex);
        if (due == entries_.end() || !due->second.announcers.count(f))
            return;
        due->second.announcers.at(f).answer = 0;
        advertise(ifindex, f);
    });
}

void Mrdisc::send(Entry& e, Family f, const MrdiscMessage& m)
{
    auto& a = e.announcers.at(f);
    Status st;
    if (options_.send) {
        st = options_.send(f, e.iface, m);
    } else {
        GroupSocket* s = socket_for(f);
        st = s ? s->send(e.iface.index, mrdisc_all_snoopers(f), encode_mrdisc(f, m)) : Status(fail("no socket"));
    }
    a.last_sent = loop_.now();
    a.sent_any = true;
    if (st) {
        log_.debug(cat("mrdisc: ", family_name(f), " ", type_name(m.type), " sent on ", e.iface.name.str()));
        return;
    }
    // A termination on a vanished interface is expected to fail.
    auto level = m.type == MrdiscType::termination ? LogLevel::debug : LogLevel::warning;
    log_.log(level, cat("mrdisc: ", family_name(f), " ", type_name(m.type), " on ", e.iface.name.str(), ": ",
                        st.error().message));
}

GroupSocket* Mrdisc::socket_for(Family f)
{
    auto& s = sockets_[f];
    if (s.socket || s.tried)
        return s.socket ? &*s.socket : nullptr;
    s.tried = true;
    GroupSocketOptions options;
    options.who = "mrdisc";
    options.only_own_groups = true; // 224.0.0.2 / ff02::2, not every IGMP packet some other socket joined
    options.icmp6_types = {mrdisc::icmp6_solicitation};
    auto opened = GroupSocket::open(f, options);
    if (!opened) {
        log_.warning(cat(opened.error().message, "; no ", family_name(f), " multicast router discovery"));
        return nullptr;
    }
    s.socket.emplace(std::move(*opened));
    loop_.watch(s.socket->fd(), POLLIN, [this, f](short) { read_socket(f); });
    return &*s.socket;
}

void Mrdisc::join(Family f, unsigned ifindex, bool on)
{
    if (options_.send)
        return;
    auto it = sockets_.find(f);
    if (it == sockets_.end() || !it->second.socket)
        return;
    GroupSocket& s = *it->second.socket;
    // Leaving fails when the interface is gone (the kernel left already).
    auto st = on ? s.join(ifindex, mrdisc_all_routers(f)) : s.leave(ifindex, mrdisc_all_routers(f));
    if (!st && on)
        log_.warning(cat(st.error().message, " (solicitations will not be answered)"));
}

void Mrdisc::read_socket(Family f)
{
    GroupSocket& s = *sockets_.at(f).socket;
    for (int budget = 64; budget > 0; --budget) {
        uint8_t buf[1500];
        auto got = s.receive(buf);
        if (!got) {
            int e = got.error().code;
            if (e != EAGAIN && e != EWOULDBLOCK && e != EINTR)
                log_.debug(os_error(e, "mrdisc: recvmsg").message);
            return;
        }
        if (!*got)
            continue;
        const GroupDatagram& d = **got;
        auto m = decode_mrdisc(f, d.body);
        if (m && m->type == MrdiscType::solicitation && d.ifindex)
            on_solicitation(f, d.ifindex);
    }
}

} // namespace smcroute
