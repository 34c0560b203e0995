#!/usr/bin/env bash
# Builds the HTML documentation site into .work/docs/build/html the way the
# Ansible ecosystem does: antsibull-docs sphinx-init writes the Sphinx project,
# antsibull-docs renders the module, role and plugin pages as RST, Sphinx builds
# them with the docs/ guides (Markdown, read by myst-parser). Offline: no
# intersphinx inventories are fetched.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
site="$REPO_ROOT/.work/docs"
rm -rf "$site"
# antsibull-docs wants its directories writable by their owner only
mkdir -p "$(dirname "$site")" && mkdir -m 0755 "$site"
cd "$site"
antsibull-docs sphinx-init --use-current --squash-hierarchy --dest-dir . atelier.workspaces >/dev/null
cat >> conf.py <<'CONF'

# atelier.workspaces: a site of its own, built without network access
project = title = html_short_title = 'atelier.workspaces'
copyright = 'atelier.workspaces maintainers'
intersphinx_mapping = {}
extensions.append('myst_parser')
myst_heading_anchors = 3
# the guides link to files of the repository that are not pages of the site;
# labels of the ansible-core docs resolve only through intersphinx (offline
# here); lint-collection-docs checks the collection's own references
suppress_warnings = ['myst.xref_missing', 'ref.ref']
CONF
mkdir -p -m 0755 rst
antsibull-docs --config-file antsibull-docs.cfg collection --use-current --squash-hierarchy \
  --dest-dir rst atelier.workspaces >/dev/null
mkdir -p rst/guides
cp "$REPO_ROOT"/docs/*.md rst/guides/
{
  printf '\nGuides\n------\n\n.. toctree::\n   :maxdepth: 1\n\n'
  for guide in rst/guides/*.md; do printf '   guides/%s\n' "$(basename "$guide" .md)"; done
} >> rst/index.rst
sphinx-build -q -W --keep-going -b html -c . rst build/html
echo "built $site/build/html/index.html"
