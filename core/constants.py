"""Values that the library, the app and the tests share, each defined here once."""

MIN_CLASSES = 2  # a classifier needs two classes to tell apart
MAX_CLASSES = 20  # the shipped models, the app's lessons and saved sessions: 2 to 20 classes

# Files read as images, wherever a folder of images is read (datasets, sessions, predict).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")
