# Install rules and the Debian package (scripts/package.sh; docs/deployment.md).
#
# `cmake --install` lays out what the package holds: /usr/bin/ingestd, the conffile
# /etc/ingestd/ingestd.toml, the systemd units under /lib/systemd/system and the deployment
# documentation. CPack's DEB generator builds ingestd_<version>_amd64.deb from it, with the
# runtime dependencies computed by dpkg-shlibdeps from the binary itself.
include(GNUInstallDirs)

install(TARGETS ingestd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES deploy/debian/ingestd.toml DESTINATION /etc/ingestd PERMISSIONS OWNER_READ
        OWNER_WRITE GROUP_READ)
install(FILES deploy/systemd/ingestd.service deploy/systemd/ingestd-worker@.service
        DESTINATION /lib/systemd/system)
install(FILES docs/deployment.md docs/configuration.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "ingestd")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "ingestd maintainers <ingestd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "document ingestion for retrieval: parse, chunk, embed, search, with cost control")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # ingestd_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
if(INGEST_WITH_OCR)
  # Local OCR's default language (parse.ocr_languages = "eng"); doctor fails without it.
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, tesseract-ocr-eng")
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/deploy/debian/conffiles;${PROJECT_SOURCE_DIR}/deploy/debian/postinst;${PROJECT_SOURCE_DIR}/deploy/debian/prerm;${PROJECT_SOURCE_DIR}/deploy/debian/postrm")
include(CPack)
