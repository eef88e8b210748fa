"""placeholder"""
class LibraryAPI:
    pass
