#!/usr/bin/env bash
echo "bench: being written"
