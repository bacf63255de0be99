// tests/unit/temp_dir: a fresh directory under /tmp for one test, and the
// files the test writes into it; all removed when it goes. path() is empty
// when the directory could not be made.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

namespace smcroute::test {

class TempDir {
public:
    TempDir()
    {
        char tmpl[] = "/tmp/smcroute-unit-test-XXXXXX";
        if (::mkdtemp(tmpl))
            path_ = tmpl;
    }
    ~TempDir()
    {
        for (const auto& f : files_)
            ::unlink(f.c_str());
        if (!path_.empty())
            ::rmdir(path_.c_str());
    }
    std::string write(const std::string& name, const std::string& text)
    {
        std::string p = path_ + "/" + name;
        if (FILE* f = std::fopen(p.c_str(), "w")) {
            std::fwrite(text.data(), 1, text.size(), f);
            std::fclose(f);
        }
        files_.push_back(p);
        return p;
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    std::vector<std::string> files_;
};

} // namespace smcroute::test
