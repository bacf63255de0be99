#!/usr/bin/env bash
# tests/docs_drift.sh BUILD_DIR SRCDIR: the man pages and the program agree.
# Every option of each personality's -h (smcroute, smcrouted, smcroutectl),
# every verb, alias and show subject of smcroutectl -h is described in
# man/smcroute.8 (in an option list, i.e. a .TP tag, of the right section);
# every option in those lists is accepted by the program ("OPT [ARG] -h"
# exits 0, an unknown option exits 64); every directive and keyword of the
# config grammar is described in man/smcroute.conf.5 and the example there
# passes "smcrouted -F". Exit 0 pass, 1 drift (listed), 77 skip (no python3).
set -euo pipefail
build=${1:?usage: docs_drift.sh BUILD_DIR SRCDIR}
src=${2:?usage: docs_drift.sh BUILD_DIR SRCDIR}
command -v python3 >/dev/null 2>&1 || { echo "SKIP: docs_drift: python3 not found"; exit 77; }
bin=$(readlink -f "$build/smcroute")
[ -x "$bin" ] || { echo "FAIL: docs_drift: $build/smcroute is not executable" >&2; exit 1; }
[ -f "$src/man/smcroute.8" ] && [ -f "$src/man/smcroute.conf.5" ] \
    || { echo "FAIL: docs_drift: no man pages under $src/man" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for name in smcroute smcrouted smcroutectl; do
    ln -s "$bin" "$tmp/$name"
done

exec python3 - "$tmp" "$src/man/smcroute.8" "$src/man/smcroute.conf.5" <<'PY'
import os, re, subprocess, sys

tmp, man8_path, man5_path = sys.argv[1:4]
problems = []
def problem(msg):
    problems.append(msg)

def run(argv, stdin=None):
    """Run a personality from the temp dir; never talks to a daemon."""
    p = subprocess.run([os.path.join(tmp, argv[0])] + argv[1:], cwd=tmp,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=10)
    return p.returncode, p.stdout + p.stderr

# ------------------------------------------------------------ man parsing

def norm(line):
    """roff source line -> plain text: no escapes, fonts, macros, quotes."""
    s = line.rstrip("\n")
    s = re.sub(r'\\f(\[[^]]*\]|\(..|.)', '', s)    # font changes
    s = s.replace('\\-', '-').replace('\\(dq', '"').replace('\\(mu', 'x')
    s = re.sub(r'\\\(..', '', s)                    # other special chars
    s = s.replace('\\&', '').replace('\\e', '\\')
    s = re.sub(r'^\.[A-Za-z]+\s*', '', s)           # a macro name at the start
    return s.replace('"', ' ')

def parse_man(path):
    """-> list of (section, [(tag, body)]) and {section: full text}."""
    sections, items, text = [], {}, {}
    sec = None
    lines = open(path).read().split('\n')
    i = 0
    cur = None  # [tag, body-lines]
    while i < len(lines):
        raw = lines[i]
        if raw.startswith('.SH'):
            sec = norm(raw).strip()
            sections.append(sec)
            items[sec], text[sec] = [], ''
            cur = None
        elif sec is not None:
            text[sec] += norm(raw) + '\n'
            if raw.startswith('.TP') and i + 1 < len(lines):
                i += 1
                cur = [norm(lines[i]), []]
                text[sec] += cur[0] + '\n'
                items[sec].append(cur)
            elif re.match(r'^\.(SS|PP|P|LP)\b', raw):
                cur = None
            elif cur is not None:
                cur[1].append(norm(raw))
        i += 1
    return sections, items, text

OPT = re.compile(r'(?<![\w-])(--?[A-Za-z][\w-]*)')

def tag_options(tag):
    return OPT.findall(tag)

def sections_like(sections, word):
    return [s for s in sections if word in s]

man8_secs, man8_items, man8_text = parse_man(man8_path)
man5_secs, man5_items, man5_text = parse_man(man5_path)

def documented_options(secs):
    found = set()
    for s in secs:
        for tag, _ in man8_items[s]:
            found.update(tag_options(tag))
    return found

legacy = sections_like(man8_secs, 'LEGACY')
daemon = sections_like(man8_secs, 'DAEMON')
client = sections_like(man8_secs, 'CLIENT')
for what, secs in (('LEGACY OPTIONS', legacy), ('DAEMON OPTIONS', daemon), ('CLIENT', client)):
    if not secs:
        problem(f"smcroute.8: no section {what}")

# ----------------------------------------------------------- help parsing

ARGWORD = re.compile(r'^[A-Z][A-Z0-9_:\[\]-]*$')

def parse_help(name):
    """-> {block heading: [(options, argwords)]} and the raw text."""
    rc, out = run([name, '-h'])
    if rc != 0:
        problem(f"{name} -h exits {rc}")
    blocks, block = {}, ''
    for line in out.split('\n'):
        if line and not line[0].isspace():
            block = line.strip()
            blocks.setdefault(block, [])
            continue
        m = re.match(r'^\s+(-\w|--[\w-]+)((?:,\s*--[\w-]+)?)(.*)$', line)
        if not m:
            continue
        opts = [m.group(1)] + re.findall(r'--[\w-]+', m.group(2))
        args = []
        for w in m.group(3).split('  ')[0].split():
            if not ARGWORD.match(w):
                break
            args.append(w)
        blocks.setdefault(block, []).append((opts, args))
    return blocks, out

# Where each personality's options are described.
def wanted_sections(name, block):
    if name == 'smcrouted':
        return daemon
    if name == 'smcroutectl':
        return client
    if block.lower().startswith('daemon options'):
        return daemon          # "accepted by the legacy form in its long spelling"
    return legacy + client     # legacy options and the client options

help_opts = {}
for name in ('smcroute', 'smcrouted', 'smcroutectl'):
    blocks, _ = parse_help(name)
    n = 0
    for block, entries in blocks.items():
        secs = wanted_sections(name, block)
        have = documented_options(secs)
        for opts, args in entries:
            n += 1
            for o in opts:
                help_opts.setdefault(name, set()).add(o)
                if o not in have:
                    problem(f"{name}: option {o} ({block.rstrip(':')}) is not in an option "
                            f"list of smcroute.8 section(s) {', '.join(secs)}")
    if n == 0:
        problem(f"{name} -h lists no options")

# --------------------------------------------------- verbs and subjects

_, ctl_help = parse_help('smcroutectl')
verbs, subjects, aliases, show_line = [], [], [], ''
verb_lines = {}
block = ''
for line in ctl_help.split('\n'):
    if line and not line[0].isspace():
        block = line
        continue
    m = re.match(r'^  ([a-z]+)(\s|$)', line)
    if m and block.startswith('Commands'):
        verbs.append(m.group(1))
        verb_lines[m.group(1)] = line
        if m.group(1) == 'show':
            show_line = line
    elif m and block.startswith('Show SUBJECT'):
        subjects.append(m.group(1))
    a = re.search(r'aliases?: ([a-z, ]+)', line)
    if a:
        aliases += [w.strip() for w in a.group(1).split(',') if w.strip()]
if not verbs or not subjects:
    problem("smcroutectl -h: found no verbs or no show subjects")

client_items = [it for s in client for it in man8_items[s]]
client_text = ''.join(man8_text[s] for s in client)
verb_tags = {tag.split()[0]: (tag, ' '.join(body)) for tag, body in client_items if tag.split()}
for v in verbs:
    if v not in verb_tags:
        problem(f"smcroutectl verb '{v}' has no entry (.TP tag) in smcroute.8 CLIENT")
for a in aliases:
    if not re.search(r'\b' + re.escape(a) + r'\b', client_text):
        problem(f"smcroutectl alias '{a}' is not mentioned in smcroute.8 CLIENT")
show_tag, show_body = verb_tags.get('show', ('', ''))
show_item = show_tag + ' ' + show_body
for s in subjects:
    if not re.search(r'\b' + re.escape(s) + r'\b', show_tag):
        problem(f"show subject '{s}' is not in the show entry's tag in smcroute.8")
# The show arguments of the help line ([-i IF] [-f inet|inet6]).
for o in re.findall(r'\[(-\w)[^]]*\]', show_line):
    if not re.search(r'(?<![\w-])' + re.escape(o) + r'\b', show_item):
        problem(f"show option {o} is not described in the show entry of smcroute.8")
# Every verb's own options in its help line ([-n|--dry-run]) are described
# in its entry (its tag or text; not in the tag alone, which the reverse
# check below would take for client options).
for v, line in verb_lines.items():
    tag, body = verb_tags.get(v, ('', ''))
    for group in re.findall(r'\[([^]]*)\]', line):
        for o in OPT.findall(group):
            if not re.search(r'(?<![\w-])' + re.escape(o) + r'(?![\w-])', tag + ' ' + body):
                problem(f"{v} option {o} is not described in the {v} entry of smcroute.8")
for w in re.findall(r'\b(inet6?)\b', show_line):
    if not re.search(r'\b' + w + r'\b', show_item):
        problem(f"show family '{w}' is not described in the show entry of smcroute.8")

# ----------------------------------- reverse: man option lists are accepted

SAMPLE = {'SEC': '10', 'N': '10', 'ID': '1', 'FILE': '/dev/null', 'PATH': '/dev/null',
          'NAME': 'docsdrift', 'LEVEL': 'debug', 'LVL': 'debug', 'CMD': '/bin/true',
          'MODE': '0600', 'GROUP': 'root', 'USER': 'root', 'USER[:GROUP]': 'root',
          'IIF': 'lo', 'OIF': 'lo', 'SOURCE': '10.0.0.1'}
GROUP_ADDR = '225.1.2.3'

def tag_entries(tag):
    """Each option in a tag with the argument words that follow it."""
    out = []
    words = tag.replace(',', ' ').split()
    for i, w in enumerate(words):
        if not OPT.fullmatch(w):
            continue
        args = []
        for a in words[i + 1:]:
            if OPT.fullmatch(a) or a in ('[', ']'):
                break
            if a.startswith('['):
                break       # optional arguments are left out
            if not ARGWORD.match(a):
                break
            args.append(a)
        out.append((w, args))
    return out

def sample(opt, args, legacy_cmd):
    vals = []
    for a in args:
        if legacy_cmd and a == 'GROUP':
            vals.append(GROUP_ADDR)
        else:
            vals.append(SAMPLE.get(a, 'x'))
    return vals

checked = 0
for secs, name in ((legacy, 'smcroute'), (daemon, 'smcrouted'), (client, 'smcroutectl')):
    for s in secs:
        for tag, _ in man8_items[s]:
            for opt, args in tag_entries(tag):
                argv = [name, opt] + sample(opt, args, name == 'smcroute') + ['-h']
                rc, out = run(argv)
                checked += 1
                if rc != 0:
                    problem(f"smcroute.8 {s}: '{' '.join(argv)}' exits {rc}: "
                            f"{out.strip().splitlines()[0] if out.strip() else ''}")
                if name == 'smcrouted' and opt.startswith('--'):
                    # the legacy form takes every daemon option in its long spelling
                    argv = ['smcroute', opt] + sample(opt, args, False) + ['-h']
                    rc, out = run(argv)
                    if rc != 0:
                        problem(f"smcroute.8 {s}: '{' '.join(argv)}' exits {rc}")
# The probe itself must be able to fail.
rc, _ = run(['smcrouted', '--no-such-option-docs-drift', '-h'])
if rc == 0:
    problem("smcrouted accepts an unknown option: the reverse check proves nothing")

# ------------------------------------------------------- smcroute.conf.5

directives = ['phyint', 'mroute', 'mgroup', 'ssmgroup', 'include']
keywords = ['enable', 'disable', 'mrdisc', 'ttl-threshold', 'from', 'source', 'group', 'to',
            'upstream', 'downstream', 'igmp', 'mld', 'fast-leave', 'allow', 'deny', 'allow-source',
            'deny-source', 'igmp-version', 'mld-version', 'robustness', 'query-interval',
            'query-response-interval', 'last-member-query-interval', 'last-member-query-count',
            'startup-query-interval', 'startup-query-count']
conf_tags = [tag for s in man5_secs for tag, _ in man5_items[s]]
first_words = {t.split()[0] for t in conf_tags if t.split()}
for d in directives:
    if d not in first_words:
        problem(f"smcroute.conf.5: directive '{d}' has no entry (.TP tag)")
for k in keywords:
    if not any(re.search(r'(?<![\w-])' + re.escape(k) + r'(?![\w-])', t) for t in conf_tags):
        problem(f"smcroute.conf.5: keyword '{k}' is not in a directive's synopsis")
# Every keyword the page describes is one the program accepts: one line a
# directive, with all its keywords, must pass smcrouted -F.
conf = os.path.join(tmp, 'kw.conf')
with open(conf, 'w') as f:
    f.write('phyint lo enable mrdisc ttl-threshold 3\nphyint eth9 disable\n'
            'mroute from lo source 10.0.0.1 group 225.1.2.3 to eth9\n'
            'mgroup from lo source 10.0.0.1 group 232.1.2.3\n'
            'ssmgroup from lo group 232.1.2.4 source 10.0.0.1\n'
            'phyint eth8 upstream igmp\nphyint eth7 upstream mld\n'
            'phyint eth6 downstream igmp fast-leave allow 239.0.0.0/8 deny 239.1.0.0/16 '
            'allow-source 10.0.0.0/8 deny-source 10.1.0.0/16 igmp-version 2 robustness 3 '
            'query-interval 60 query-response-interval 5 last-member-query-interval 0.5 '
            'last-member-query-count 3 startup-query-interval 15 startup-query-count 3\n'
            'phyint eth6 downstream mld mld-version 1\n'
            f'include {tmp}/nothing-*.conf\n')
rc, out = run(['smcrouted', '-F', conf])
if rc != 0:
    problem(f"a config using every documented keyword fails smcrouted -F ({rc}): {out.strip()}")
with open(conf, 'w') as f:
    f.write('mroute from lo group 225.1.2.3 towards eth9 bogus-keyword\nnot-a-directive x\n')
rc, _ = run(['smcrouted', '-F', conf])
if rc == 0:
    problem("smcrouted -F accepts an unknown directive: the keyword check proves nothing")
# The EXAMPLE of the page's config, and the PROXY section's (its last
# .nf/.fi block), must be valid.
src5 = open(man5_path).read()
for section in ('EXAMPLE', 'PROXY'):
    sec_m = re.search(r'^\.SH ' + section + r'\n((?:(?!\.SH ).*\n)*)', src5, re.M)
    blocks = re.findall(r'^\.nf\n((?:.*\n)*?)\.fi', sec_m.group(1), re.M) if sec_m else []
    if not blocks:
        problem(f"smcroute.conf.5: no {section} with .nf/.fi")
        continue
    with open(conf, 'w') as f:
        f.write((blocks[0] if section == 'EXAMPLE' else blocks[-1]).replace('\\-', '-'))
    rc, out = run(['smcrouted', '-F', conf])
    if rc != 0:
        problem(f"smcroute.conf.5 {section} example fails smcrouted -F ({rc}): {out.strip()}")

if problems:
    print(f"FAIL: docs_drift: {len(problems)} problem(s):", file=sys.stderr)
    for p in problems:
        print("  " + p, file=sys.stderr)
    sys.exit(1)
print(f"docs drift ok: {sum(len(v) for v in help_opts.values())} help options, "
      f"{len(verbs)} verbs, {len(subjects)} show subjects, {checked} man options probed, "
      f"{len(directives) + len(keywords)} config words")
PY
