#include "smcroute/os/runtime_files.hpp"

#include "smcroute/model/runtime_paths.hpp"
#include "smcroute/os/account_files.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

namespace smcroute {

namespace {

std::string octal(mode_t mode)
{
    std::string out(4, '0');
    for (int i = 3; i >= 0; --i, mode >>= 3)
        out[static_cast<size_t>(i)] = static_cast<char>('0' + (mode & 7));
    return out;
}

std::string kind_of(mode_t mode)
{
    if (S_ISLNK(mode))
        return "a symbolic link";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISREG(mode))
        return "a regular file";
    return "a special file";
}

// What is at NAME in DIR, never followed: nullopt when there is nothing.
Result<std::optional<struct stat>> entry_at(const FileDir& dir, const std::string& name)
{
    struct stat st{};
    if (::fstatat(dir.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
        return std::optional<struct stat>(st);
    if (errno == ENOENT)
        return std::optional<struct stat>();
    return os_error(errno, dir.join(name));
}

// Whether an entry may give way to a file of ours: never a directory, and
// in a shared directory only an entry of this process's user.
Status may_replace(const FileDir& dir, const std::string& name, const struct stat& st, std::string_view what)
{
    if (S_ISDIR(st.st_mode))
        return fail(cat(what, " ", dir.join(name), " is a directory"));
    if (dir.shared() && st.st_uid != ::geteuid())
        return fail(cat(what, " ", dir.join(name), " exists and belongs to uid ", st.st_uid, ", in ", dir.path(),
                        ", which other users may write: refusing to replace another user's file"));
    return {};
}

Status unlink_at(const FileDir& dir, const std::string& name, std::string_view what)
{
    if (::unlinkat(dir.fd(), name.c_str(), 0) != 0 && errno != ENOENT)
        return os_error(errno, cat("cannot remove ", what, " ", dir.join(name)));
    return {};
}

// Removes NAME from DIR if it is still the file ID.
Status remove_same(const FileDir& dir, const std::string& name, const FileId& id, std::string_view what)
{
    struct stat st{};
    if (::fstatat(dir.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return {}; // gone already
    if (st.st_dev != id.dev || st.st_ino != id.ino)
        return fail(cat(what, " ", dir.join(name), " is no longer the one this daemon made: left as it is"));
    return unlink_at(dir, name, what);
}

bool fits_sun_path(const std::string& path)
{
    return !path.empty() && path.size() < sizeof(sockaddr_un{}.sun_path);
}

sockaddr_un unix_address(const std::string& path)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    return addr;
}

} // namespace

// ------------------------------------------------------------------ FileDir

Result<FileDir> FileDir::open(const std::string& path)
{
    UniqueFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd)
        return os_error(errno, cat("directory ", path));
    return adopt(std::move(fd), path);
}

Result<FileDir> FileDir::adopt(UniqueFd fd, std::string path)
{
    struct stat st{};
    if (::fstat(fd.get(), &st) != 0)
        return os_error(errno, cat("directory ", path));
    if (!S_ISDIR(st.st_mode))
        return fail(cat(path, " is not a directory"));
    const uid_t me = ::geteuid();
    if (st.st_uid != 0 && st.st_uid != me)
        return fail(cat("directory ", path, " belongs to uid ", st.st_uid, ", not to root",
                        me != 0 ? cat(" or uid ", me) : std::string(), ": that user could replace the files in it"));
    const bool others_write = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
    if (others_write && !(st.st_mode & S_ISVTX))
        return fail(cat("directory ", path, " may be written by other users (mode ", octal(st.st_mode & 07777),
                        ") and is not sticky: they could replace the files in it; use a directory only its owner "
                        "may write, like /run"));
    return FileDir(std::move(fd), std::move(path), others_write);
}

std::string FileDir::join(std::string_view name) const
{
    if (path_ == ".")
        return std::string(name);
    return cat(path_, path_.ends_with('/') ? "" : "/", name);
}

std::string FileDir::fd_path(std::string_view name) const
{
    return cat("/proc/self/fd/", fd_.get(), "/", name);
}

bool is_plain_name(std::string_view name)
{
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos
           && name.find('\0') == std::string_view::npos;
}

Result<SplitPath> split_path(const std::string& path)
{
    SplitPath out;
    auto slash = path.rfind('/');
    if (slash == std::string::npos) {
        out.dir = ".";
        out.name = path;
    } else {
        out.dir = slash == 0 ? "/" : path.substr(0, slash);
        out.name = path.substr(slash + 1);
    }
    if (!is_plain_name(out.name))
        return fail(cat("'", path, "' does not name a file"));
    return out;
}

// ---------------------------------------------------------- runtime directory

namespace {

// A runtime directory another user owns (an older smcroute gave it to the
// -p user), or one that others may write, is renamed aside, made root's, emptied and removed; a fresh one
// then takes its name. So no directory of root's ever holds that user's
// entries: a socket there could be an impostor that root's client would
// trust. /run is root's, so only root can rename in it. What cannot be
// removed stays under the aside name, which nothing uses.
Status set_aside(const FileDir& up, const std::string& leaf, UniqueFd old, uid_t owner, Logger& log)
{
    const std::string path = up.join(leaf);
    const std::string aside = cat(".", leaf, ".taken-", ::getpid());
    if (::renameat2(up.fd(), leaf.c_str(), up.fd(), aside.c_str(), RENAME_NOREPLACE) != 0)
        return os_error(errno, cat("cannot move aside runtime directory ", path, " of uid ", owner));
    // Root's and closed to others from here on: its owner can add nothing.
    if (::fchown(old.get(), ::geteuid(), ::getegid()) != 0 || ::fchmod(old.get(), 0700) != 0)
        return os_error(errno, cat("cannot take runtime directory ", up.join(aside), " from uid ", owner));
    UniqueFd list(::openat(old.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    DIR* d = list ? ::fdopendir(list.get()) : nullptr;
    if (d) {
        (void)list.release(); // closedir closes it
        while (const dirent* e = ::readdir(d)) {
            const std::string_view n = e->d_name;
            if (n == "." || n == "..")
                continue;
            if (::unlinkat(::dirfd(d), e->d_name, 0) != 0 && errno == EISDIR)
                ::unlinkat(::dirfd(d), e->d_name, AT_REMOVEDIR);
        }
        ::closedir(d);
    }
    if (::unlinkat(up.fd(), aside.c_str(), AT_REMOVEDIR) != 0)
        log.warning(cat("left ", up.join(aside), " (the runtime directory taken from uid ", owner,
                        "): ", std::strerror(errno)));
    log.notice(cat("took back runtime directory ", path, " from uid ", owner,
                   ": replaced by a new one of root's, so the user of -p cannot replace the daemon's files in it"));
    return {};
}

} // namespace

Result<RuntimeDir> make_runtime_dir(const std::string& parent, std::string_view name, Logger& log)
{
    if (!is_plain_name(name))
        return fail(cat("runtime directory name '", name, "' is not a plain name"));
    auto up = FileDir::open(parent);
    if (!up)
        return up.take_error();
    const std::string leaf(name);
    const std::string path = up->join(leaf);
    const uid_t uid = ::geteuid();
    const gid_t gid = ::getegid();
    for (int attempt = 0;; ++attempt) {
        bool made = false;
        if (::mkdirat(up->fd(), leaf.c_str(), 0755) == 0) {
            made = true;
            log.debug(cat("created runtime directory ", path));
        } else if (errno != EEXIST)
            return os_error(errno, cat("cannot create runtime directory ", path));

        UniqueFd fd(::openat(up->fd(), leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) {
            const int e = errno;
            auto there = entry_at(*up, leaf);
            if (there && *there && S_ISLNK((*there)->st_mode))
                return fail(cat("runtime directory ", path,
                                " is a symbolic link: refusing to follow it (remove it; the daemon creates the directory)"));
            if (there && *there && !S_ISDIR((*there)->st_mode))
                return fail(cat("runtime directory ", path, " exists and is ", kind_of((*there)->st_mode),
                                ", not a directory: remove it"));
            return os_error(e, cat("cannot open runtime directory ", path));
        }
        struct stat st{};
        if (::fstat(fd.get(), &st) != 0)
            return os_error(errno, cat("runtime directory ", path));
        // Another user's, or one others could write: what is in it may be
        // theirs.
        if (st.st_uid != uid || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
            if (attempt > 0)
                return fail(cat("runtime directory ", path, " was replaced while it was made"));
            if (auto aside = set_aside(*up, leaf, std::move(fd), st.st_uid, log); !aside)
                return aside.take_error();
            continue;
        }
        if (st.st_gid != gid && ::fchown(fd.get(), uid, gid) != 0)
            return os_error(errno, cat("cannot give runtime directory ", path, " to gid ", gid));
        if ((st.st_mode & 07777) != 0755 && ::fchmod(fd.get(), 0755) != 0)
            return os_error(errno, cat("cannot set the mode of runtime directory ", path));
        auto dir = FileDir::adopt(std::move(fd), path);
        if (!dir)
            return dir.take_error();
        std::optional<FileId> id;
        if (made)
            id = FileId{st.st_dev, st.st_ino};
        return RuntimeDir(std::move(*up), leaf, std::move(*dir), id);
    }
}

Status RuntimeDir::remove_if_made()
{
    if (!made_)
        return {};
    const FileId id = *made_;
    made_.reset();
    struct stat st{};
    if (::fstatat(parent_.fd(), name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return {}; // gone already
    if (st.st_dev != id.dev || st.st_ino != id.ino)
        return fail(cat("runtime directory ", dir_.path(), " is no longer the one this start made: left as it is"));
    if (::unlinkat(parent_.fd(), name_.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
        return os_error(errno, cat("cannot remove runtime directory ", dir_.path()));
    return {};
}

// ------------------------------------------------------------------ PidFile

Result<PidFile> PidFile::open(const std::string& path)
{
    auto parts = split_path(path);
    if (!parts)
        return Error{0, cat("pid file ", parts.error().message)};
    auto dir = FileDir::open(parts->dir);
    if (!dir)
        return Error{dir.error().code, cat("pid file ", path, ": ", dir.error().message)};
    auto there = entry_at(*dir, parts->name);
    if (!there)
        return there.take_error();
    if (*there)
        if (auto ok = may_replace(*dir, parts->name, **there, "pid file"); !ok)
            return ok.take_error();
    return PidFile(std::move(*dir), std::move(parts->name), path);
}

Status PidFile::write(pid_t pid)
{
    auto there = entry_at(dir_, name_);
    if (!there)
        return there.take_error();
    if (*there) {
        if (auto ok = may_replace(dir_, name_, **there, "pid file"); !ok)
            return ok;
        if (auto gone = unlink_at(dir_, name_, "pid file"); !gone)
            return gone;
    }
    UniqueFd fd(::openat(dir_.fd(), name_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd)
        return os_error(errno, cat("cannot create pid file ", path_));
    struct stat st{};
    if (::fchmod(fd.get(), 0644) != 0 || ::fstat(fd.get(), &st) != 0)
        return os_error(errno, cat("pid file ", path_));
    const std::string text = cat(pid, "\n");
    ssize_t n = ::write(fd.get(), text.data(), text.size());
    if (n != static_cast<ssize_t>(text.size()))
        return os_error(n < 0 ? errno : EIO, cat("cannot write pid file ", path_));
    // Kept open: while it is, its inode number cannot be reused by another
    // file, so remove() knows this one from any replacement.
    written_ = FileId{st.st_dev, st.st_ino};
    file_ = std::move(fd);
    return {};
}

Status PidFile::remove()
{
    if (!written_)
        return {};
    const FileId id = *written_;
    written_.reset();
    Status st = remove_same(dir_, name_, id, "pid file");
    file_.reset();
    return st;
}

// ------------------------------------------------------------- ReplacedFile

Result<ReplacedFile> ReplacedFile::open(const std::string& path)
{
    auto parts = split_path(path);
    if (!parts)
        return Error{0, cat("metrics file ", parts.error().message)};
    auto dir = FileDir::open(parts->dir);
    if (!dir)
        return Error{dir.error().code, cat("metrics file ", path, ": ", dir.error().message)};
    auto there = entry_at(*dir, parts->name);
    if (!there)
        return there.take_error();
    if (*there)
        if (auto ok = may_replace(*dir, parts->name, **there, "metrics file"); !ok)
            return ok.take_error();
    return ReplacedFile(std::move(*dir), std::move(parts->name), path);
}

Status ReplacedFile::write(std::string_view content)
{
    auto there = entry_at(dir_, name_);
    if (!there)
        return there.take_error();
    if (*there)
        if (auto ok = may_replace(dir_, name_, **there, "metrics file"); !ok)
            return ok;
    const std::string temp = cat(".", name_, ".", ::getpid(), ".tmp");
    // One of ours left by a write that failed part-way, or (in a shared
    // directory) someone else's, which may_replace refuses.
    if (auto stale = entry_at(dir_, temp); !stale)
        return stale.take_error();
    else if (*stale) {
        if (auto ok = may_replace(dir_, temp, **stale, "temporary metrics file"); !ok)
            return ok;
        if (auto gone = unlink_at(dir_, temp, "temporary metrics file"); !gone)
            return gone;
    }
    UniqueFd fd(::openat(dir_.fd(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd)
        return os_error(errno, cat("cannot create ", dir_.join(temp)));
    auto fail_here = [&](int err, std::string what) {
        (void)::unlinkat(dir_.fd(), temp.c_str(), 0);
        return os_error(err, std::move(what));
    };
    if (::fchmod(fd.get(), 0644) != 0)
        return fail_here(errno, cat("metrics file ", dir_.join(temp)));
    size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fail_here(n < 0 ? errno : EIO, cat("cannot write ", dir_.join(temp)));
        done += static_cast<size_t>(n);
    }
    if (::renameat(dir_.fd(), temp.c_str(), dir_.fd(), name_.c_str()) != 0)
        return fail_here(errno, cat("cannot rename ", dir_.join(temp), " to ", path_));
    return {};
}

// --------------------------------------------------------------- SocketNode

Result<SocketNode> SocketNode::bind(int fd, const std::string& path, mode_t mode, gid_t group, Logger& log)
{
    auto parts = split_path(path);
    if (!parts)
        return Error{0, cat("IPC socket ", parts.error().message)};
    auto dir = FileDir::open(parts->dir);
    if (!dir)
        return Error{dir.error().code, cat("cannot use ", path, " as IPC socket: ", dir.error().message)};
    const std::string& name = parts->name;
    const std::string via = dir->fd_path(name);
    if (!fits_sun_path(via))
        return fail(cat("IPC socket name too long: ", name));
    const sockaddr_un addr = unix_address(via);

    auto there = entry_at(*dir, name);
    if (!there)
        return there.take_error();
    if (*there) {
        const struct stat& st = **there;
        if (auto ok = may_replace(*dir, name, st, "IPC socket"); !ok)
            return ok.take_error();
        const bool ours = st.st_uid == ::geteuid() || st.st_uid == 0;
        if (S_ISSOCK(st.st_mode) && ours) {
            UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
            if (!probe)
                return os_error(errno, "IPC socket");
            int rc = ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
            if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS)
                return fail(cat("another daemon is already running on ", path));
            if (errno != ECONNREFUSED && errno != ENOENT)
                return os_error(errno, cat("cannot check existing socket ", path));
            log.debug(cat("removed stale IPC socket ", path));
        } else if (S_ISSOCK(st.st_mode) || S_ISLNK(st.st_mode)) {
            // Only in a directory nobody else may write (may_replace): it
            // can only date from before the directory was root's.
            log.notice(cat("removed ", kind_of(st.st_mode), " of uid ", st.st_uid, " at ", path,
                           " (never followed) to make way for the IPC socket"));
        } else {
            return fail(cat("cannot use ", path, " as IPC socket: it exists and is not a socket"));
        }
        if (auto gone = unlink_at(*dir, name, "stale socket"); !gone)
            return gone.take_error();
    }

    // The node is made with exactly `mode`: no chmod afterwards, no window.
    const mode_t old_mask = ::umask(static_cast<mode_t>(~mode & 0777));
    int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    const int bind_errno = errno;
    ::umask(old_mask);
    if (rc < 0)
        return os_error(bind_errno, cat("cannot bind IPC socket ", path));

    SocketNode node(std::move(*dir), name, path);
    struct stat st{};
    if (::fstatat(node.dir_.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return os_error(errno, cat("IPC socket ", path));
    if (!S_ISSOCK(st.st_mode) || st.st_uid != ::geteuid())
        return fail(cat("IPC socket ", path, " is not the socket just bound"));
    node.bound_ = FileId{st.st_dev, st.st_ino};
    if ((st.st_mode & 07777) != mode) {
        (void)node.remove();
        return fail(cat("IPC socket ", path, " was made with mode ", octal(st.st_mode & 07777), ", not ",
                        octal(mode), " (does ", node.dir_.path(), " have a default ACL?)"));
    }
    // In a directory nobody else may write (or, sticky, where nobody else
    // may rename our node), and never following a link.
    if (group != static_cast<gid_t>(-1)
        && ::fchownat(node.dir_.fd(), name.c_str(), static_cast<uid_t>(-1), group, AT_SYMLINK_NOFOLLOW) != 0) {
        const int e = errno;
        (void)node.remove();
        return os_error(e, cat("cannot give IPC socket ", path, " to group ", group));
    }
    return node;
}

Status SocketNode::remove()
{
    if (!bound_)
        return {};
    const FileId id = *bound_;
    bound_.reset();
    return remove_same(dir_, name_, id, "IPC socket");
}

Result<std::optional<RuntimeDir>> use_runtime_dir(const std::string& ident, bool socket_given, bool pid_given,
                                                  std::string& socket_path, std::string& pid_file, Logger& log)
{
    if (socket_given && pid_given)
        return std::optional<RuntimeDir>();
    auto made = make_runtime_dir("/run", ident, log);
    if (!made)
        return made.take_error();
    if (!socket_given)
        socket_path = runtime_dir_socket_path(ident);
    if (!pid_given)
        pid_file = runtime_dir_pid_file(ident);
    return std::optional<RuntimeDir>(std::move(*made));
}

Status check_runtime_paths(const std::string& socket_path, const std::string& pid_file)
{
    auto sock = split_path(socket_path);
    if (!sock)
        return Error{0, cat("IPC socket ", sock.error().message)};
    if (auto dir = FileDir::open(sock->dir); !dir && dir.error().code == 0)
        return Error{0, cat("cannot use ", socket_path, " as IPC socket: ", dir.error().message)};
    if (auto pid = PidFile::open(pid_file); !pid && pid.error().code == 0)
        return pid.take_error();
    return {};
}

Result<gid_t> lookup_group(const std::string& name, const AccountFiles& files)
{
    auto number = parse_account_id(name);
    auto groups = read_account_file(files.group);
    if (!groups && !number)
        return groups.take_error();
    if (groups)
        if (auto gr = group_by_name(*groups, name))
            return gr->id;
    if (number)
        return *number;
    return fail(cat("unknown group '", name, "'"));
}

} // namespace smcroute
