"""Flow modules Bytewax runs; each one wires the library together."""
