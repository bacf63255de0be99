// os/runtime_files: the daemon's files in the file system: the runtime
// directory /run/IDENT/ (with -p USER), the pid file and the IPC socket's
// node. Each is made through a descriptor of its directory, checked first
// (owned by root or this process's user; others may write it only when it
// is sticky, like /tmp), with *at() calls that never follow a symbolic link
// in the last component and never open an existing file: a pid file is
// removed and created anew (O_EXCL|O_NOFOLLOW), the metrics file is written
// to a new temporary file (O_EXCL|O_NOFOLLOW) renamed over it, a socket gets its mode from
// the umask it is bound under and its group by fchownat(AT_SYMLINK_NOFOLLOW),
// so there is no window in which another user's swap could redirect root.
// Removal at exit touches only the very file that was made, and a start
// that fails removes the runtime directory only if it made it. Also the
// daemon's steps before it starts: its default paths moved into the runtime
// directory (-p USER; the defaults are model/runtime_paths'), the paths
// checked, the socket's group looked up. Knows nothing of what the files
// are for beyond that.
//
// Errors: a refusal by these rules has code 0 and says why; an OS failure
// carries its errno.
#pragma once

#include "smcroute/base/log.hpp"
#include "smcroute/base/result.hpp"
#include "smcroute/base/unique_fd.hpp"
#include "smcroute/os/account_files.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace smcroute {

// A directory fit to hold the daemon's files, open for *at() calls.
class FileDir {
public:
    // Opens the directory PATH (symbolic links on the way are followed: the
    // checks apply to the directory reached). Refused: a directory owned by
    // a user other than root or this process's, and one its group or others
    // may write unless it is sticky.
    static Result<FileDir> open(const std::string& path);
    // The same checks on a directory already open.
    static Result<FileDir> adopt(UniqueFd fd, std::string path);

    int fd() const { return fd_.get(); }
    const std::string& path() const { return path_; }
    // Others may write it (it is sticky): their entries are never replaced.
    bool shared() const { return shared_; }
    // PATH/NAME, for messages.
    std::string join(std::string_view name) const;
    // A path that reaches NAME in this very directory, whatever becomes of
    // PATH meanwhile ("/proc/self/fd/N/NAME"): for bind() and connect(),
    // which have no *at() form.
    std::string fd_path(std::string_view name) const;

private:
    FileDir(UniqueFd fd, std::string path, bool shared) : fd_(std::move(fd)), path_(std::move(path)), shared_(shared)
    {
    }
    UniqueFd fd_;
    std::string path_;
    bool shared_ = false;
};

// PATH as its directory and last component ("x" is "." and "x"). Refused
// when the last component is empty, "." or "..".
struct SplitPath {
    std::string dir;
    std::string name;
};
Result<SplitPath> split_path(const std::string& path);

// A plain file name: not empty, no '/', not "." or "..".
bool is_plain_name(std::string_view name);

// The identity of a file made here: it is removed only while it is that one.
struct FileId {
    dev_t dev = 0;
    ino_t ino = 0;
};

// The runtime directory of a daemon started with -p USER, as one start found
// or made it.
class RuntimeDir {
public:
    const FileDir& dir() const { return dir_; }
    // This start created it (a directory that was there is not).
    bool made() const { return made_.has_value(); }
    // A start that failed takes back what it made: the directory, when this
    // start created it, it is still that one and it is empty (the failed
    // start removed its files first). Anything else stays; so does the
    // directory where this process may no longer remove it.
    Status remove_if_made();

private:
    friend Result<RuntimeDir> make_runtime_dir(const std::string&, std::string_view, Logger&);
    RuntimeDir(FileDir parent, std::string name, FileDir dir, std::optional<FileId> made)
        : parent_(std::move(parent)), name_(std::move(name)), dir_(std::move(dir)), made_(made)
    {
    }
    FileDir parent_;
    std::string name_;
    FileDir dir_;
    std::optional<FileId> made_;
};

// The runtime directory PARENT/NAME of a daemon started with -p USER
// (/run/IDENT): created with mode 0755, owned by this process's user and
// group (root). One that exists and is root's gets that group and mode
// through its descriptor; one of another user's, or that others may write,
// is renamed aside, emptied and removed, and a new one made (never, even
// for a moment, a directory of root's holding another user's entries).
// A symbolic link or anything else is refused. NAME must be a plain name.
// Logs a take-back (notice).
Result<RuntimeDir> make_runtime_dir(const std::string& parent, std::string_view name, Logger& log);

// The pid file.
class PidFile {
public:
    // Checks PATH's directory (FileDir::open) and what is at PATH now:
    // refused when it is a directory, or another user's entry in a shared
    // directory.
    static Result<PidFile> open(const std::string& path);
    // Removes what is at PATH (never following it, so a link or a hard link
    // to another file leaves that file alone) and creates PATH anew
    // (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0644) holding "PID\n".
    Status write(pid_t pid);
    // Removes the file written, if it is still that one. Fails when this
    // process may not (after -p, in root's directory): the file stays, and
    // the next start replaces it.
    Status remove();
    const std::string& path() const { return path_; }

private:
    PidFile(FileDir dir, std::string name, std::string path)
        : dir_(std::move(dir)), name_(std::move(name)), path_(std::move(path))
    {
    }
    FileDir dir_;
    std::string name_;
    std::string path_;
    std::optional<FileId> written_;
    UniqueFd file_; // the file written, open until remove()
};

// A file replaced whole now and then (--metrics-file, for node_exporter's
// textfile collector): each write() goes to a new temporary file in the
// same directory (".NAME.PID.tmp", O_CREAT|O_EXCL|O_NOFOLLOW, mode 0644),
// renamed over PATH once complete, so a reader sees the old or the new
// content, never a part. The directory is checked (FileDir) and opened once,
// at open(), and kept: writes after -p go to that very directory. A
// symbolic link at PATH is replaced, never followed; in a shared (sticky)
// directory another user's entry at PATH, or at the temporary name, is
// refused, never replaced. The file stays at exit (a reader then sees the
// last values, and their age).
class ReplacedFile {
public:
    // Refused: what PidFile::open refuses (a directory at PATH, a directory
    // others may write that is not sticky, one of another user's, another
    // user's entry at PATH in a shared one).
    static Result<ReplacedFile> open(const std::string& path);
    Status write(std::string_view content);
    const std::string& path() const { return path_; }

private:
    ReplacedFile(FileDir dir, std::string name, std::string path)
        : dir_(std::move(dir)), name_(std::move(name)), path_(std::move(path))
    {
    }
    FileDir dir_;
    std::string name_;
    std::string path_;
};

// The IPC socket's node in the file system.
class SocketNode {
public:
    // Binds FD (an AF_UNIX socket) at PATH, with exactly MODE (0 to 0777)
    // and, unless GROUP is -1, that group. What is at PATH first: a socket of
    // this process's user or root is probed, and removed when nobody answers
    // (stale); a live one is "another daemon is already running on PATH". A
    // symbolic link, or another user's socket, is removed (never followed)
    // in a directory nobody else may write, refused in a shared one;
    // anything else is refused ("it exists and is not a socket"). Sets the
    // process umask around bind(): call it while single-threaded.
    static Result<SocketNode> bind(int fd, const std::string& path, mode_t mode, gid_t group, Logger& log);
    // Removes the node if it is still the one bound; call it before closing
    // the socket, which keeps the node's inode number from being reused.
    // Fails when this process may not (after -p, in root's runtime
    // directory): the node stays, dead, and the next start replaces it.
    Status remove();
    const std::string& path() const { return path_; }

private:
    SocketNode(FileDir dir, std::string name, std::string path)
        : dir_(std::move(dir)), name_(std::move(name)), path_(std::move(path))
    {
    }
    FileDir dir_;
    std::string name_;
    std::string path_;
    std::optional<FileId> bound_;
};

// The daemon's paths, checked and placed --------------------------------------

// With -p USER the default socket and pid paths (model/runtime_paths) move
// into the runtime directory /run/IDENT/ (clients look there too), made
// here by make_runtime_dir. It is root's, mode 0755, so the user cannot
// replace the socket or plant links there; the price is that the daemon, no
// longer root at exit, cannot remove its files: they stay, and the next
// start replaces them. An existing directory is taken back from whoever
// owns it (an older smcroute gave it to the user); a symbolic link there is
// refused, never followed. A path given explicitly (SOCKET_GIVEN,
// PID_GIVEN: -u, -P) is used exactly as given, even when it names the
// default place; when both are given no directory is made (nullopt).
// IDENT must be a valid ident (model/cli).
Result<std::optional<RuntimeDir>> use_runtime_dir(const std::string& ident, bool socket_given, bool pid_given,
                                                  std::string& socket_path, std::string& pid_file, Logger& log);

// Before anything else: the directories of the socket and the pid file are
// fit to hold them (FileDir::open), and no other user's file sits at the pid
// file's name in a shared one (PidFile::open). Only refusals (code 0) are
// errors: a pid file that cannot be written for other reasons is the
// caller's warning later.
Status check_runtime_paths(const std::string& socket_path, const std::string& pid_file);

// A group by name (in /etc/group, os/account_files) or number (the IPC
// socket's group): "unknown group 'x'".
Result<gid_t> lookup_group(const std::string& name, const AccountFiles& files = AccountFiles{});

} // namespace smcroute
