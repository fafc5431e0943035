# weft profile: the transaction specification's DTD travels inside the binary
# as bytes, so a specification is validated without reading any other file.

$(GEN)/profile_services_dtd.h: src/profile/services.dtd
	@mkdir -p $(@D)
	{ echo '/* Generated from src/profile/services.dtd; do not edit. */'; \
	  echo 'static const unsigned char profile_services_dtd[] = {'; \
	  od -An -v -tx1 $< | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; } > $@.tmp && mv $@.tmp $@

# The objects are built by the generic rules; these only add the generated header.
$(BUILD)/obj/src/profile/spec_xml.o $(BUILD)/san/src/profile/spec_xml.o: $(GEN)/profile_services_dtd.h
