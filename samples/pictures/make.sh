#!/bin/sh
# Draws the pictures in samples/pictures/ from the samples: at 2 decimals (--precision 2,
# where a number below 1 keeps 2 significant digits: -0.1966 is drawn -0.2, 0.0875 0.088),
# as PNG files at 110 dpi, with Graphviz's dot. Run it from anywhere:
#
#   sh samples/pictures/make.sh            (BPCLI=".venv/bin/bpcli" sh … for another bpcli)
#
# Each picture is what this command draws:
#
#   bpcli grad samples/NAME.bp --precision 2 -o samples/pictures/NAME.png
#
# and report.png is the HTML report's screenshot, taken by report.py in headless Chromium
# (PYTHON=".venv/bin/python" sh … for the Python with Playwright).
set -eu
cd "$(dirname "$0")/../.."
for name in simple gates fanout neuron neuron_sigmoid matrix two_layer_net; do
    ${BPCLI:-bpcli} grad "samples/$name.bp" --precision 2 -o "samples/pictures/$name.png"
done
${PYTHON:-python3} samples/pictures/report.py
