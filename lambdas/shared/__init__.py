"""Runtime helpers shared by every function; packaged as ``shared/`` beside each handler folder."""
