// model/runtime_paths: where, by default, a daemon of an ident keeps its
// IPC socket and pid file, and its runtime directory (with -p USER); the
// client looks in the same places. Names only: nothing here touches the
// file system (os/runtime_files makes and checks the files).
#pragma once

#include <string>

namespace smcroute {

// "/run/<ident>.sock"
std::string default_socket_path(const std::string& ident);
// "/run/<ident>.pid"
std::string default_pid_file(const std::string& ident);
// Where a daemon started with -p USER keeps its socket and pid file:
// "/run/<ident>"; the client tries "<dir>/<ident>.sock" when the default
// socket does not exist, and only while that directory is root's (or this
// user's) and nobody else may write it (os/runtime_files, FileDir).
std::string runtime_dir(const std::string& ident);
// The socket and pid file in runtime_dir: "/run/<ident>/<ident>.sock", ".pid".
std::string runtime_dir_socket_path(const std::string& ident);
std::string runtime_dir_pid_file(const std::string& ident);

} // namespace smcroute
