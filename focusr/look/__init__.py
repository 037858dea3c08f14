"""How the picture looks: the lens that blurs what is not in focus (and, as they move here,
the renderer, the overlay and the colours). Imports only numpy and OpenCV, never a stage."""
