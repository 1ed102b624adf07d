"""Word lists for the rule-based entity extractor: openers, titles, demonyms, places.

Plain data, kept apart from the rules that use it. The place list covers countries,
capitals, large cities and regions that news mentions most; it is a hint for the entity
kind, not a limit on what is extracted.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _names(text: str) -> frozenset[str]:
    return frozenset(name.strip() for name in text.split(",") if name.strip())


COMMON_CAPS = _words(
    """
    A An The This That These Those It Its He She They We I You His Her Their Our My Your Them
    But And Or Nor So Yet If When While Where Whether Why How What Which Who Whom Whose
    After Before During Since Until Unless Although Though Because As At By For From In Into
    On Onto Of Off Over Under To Toward Towards With Without Within Across Along Among Around
    Also Meanwhile However Still Last Next Later Earlier Then Now Today Tonight Yesterday Tomorrow
    According Asked Speaking Despite Instead Only Even Just Both Either Neither Each Every All
    Some Many Most More Much Few Several Such Other Another No Not Nothing None There Here
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday
    January February March April May June July August September October November December
    Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Mon Tue Wed Thu Fri Sat Sun
    Mr Mrs Ms Dr Sir Madam Yes Okay Oh Please Thanks Thank Let Lets Let's
    One Two Three Four Five Six Seven Eight Nine Ten Hundreds Thousands Millions
    Asked Told Said Says Breaking Update Updated Despite Amid Following Unlike Like Once
    Whatever Whenever Wherever Overall
    I'm I've I'll I'd I’m I’ve I’ll I’d We're We've We'll They're They've You're You've He's She's It's
    That's There's Here's What's Who's Let's Don't Doesn't Didn't Can't Won't Isn't Aren't Wasn't
    People Do Does Did Is Are Was Were Be Been Have Has Had Can Could Would Should Must Might
    """
)

MONTHS = _words("January February March April May June July August September October November December")
"""Months that are also surnames ("Theresa May") when they close a name."""

GENERIC = _words(
    """
    Officials Sources Analysts Critics Residents Witnesses Police Protesters Workers Experts
    Reports Report News State Government Agency Ministry Minister Court Army Company Party
    Council Committee Commission Union Authority Office Department
    Cabinet President North South East West Northern Southern Eastern Western Central Upper
    Lower Greater New Old Internet Web Online Chapter Section Part Page Photo Video Watch Read
    """
)
"""Words that are never an entity on their own."""

TITLES = _words(
    """
    President Vice Premier Prime Minister Ministers Secretary Director Chairman Chairwoman Chair
    Chief Spokesman Spokeswoman Spokesperson Governor Mayor Senator Sen Rep Representative
    General Gen Colonel Col Lt Lieutenant Major Maj Captain Capt Sergeant Sgt Admiral Commander
    King Queen Prince Princess Pope Sheikh Emir Sultan Judge Justice CEO CFO COO Chancellor
    Commissioner Ambassador Envoy Leader Speaker Deputy Acting Former Executive Head Officer
    Rabbi Imam Cardinal Bishop Archbishop Reverend Rev Professor Prof Dr Mr Mrs Ms Sir Dame Lord Lady
    Editor Correspondent Reporter Analyst Manager Coach Striker Midfielder Goalkeeper Defender
    Foreign Defense Defence Finance Interior Health Economy Economic Trade Energy Education
    Agriculture Transport Culture Justice Security Intelligence Military Army Navy
    Attorney Solicitor Auditor Inspector Treasurer Founder Cofounder Co-founder Chairperson
    Councillor Councilor Alderman Legislator Lawmaker MP MEP Delegate Negotiator Mediator Official
    AG PM Taoiseach Tanaiste Republican Democrat Gov Supt
    Majority Minority Whip Leader Shadow Boss Keeper Skipper
    Singer Actor Actress Comedian Presenter Producer Novelist Author Rapper Guitarist Drummer
    """
)

DEPARTMENTS = _words(
    """
    State Defense Defence Homeland Security Energy Commerce Treasury Justice Health Education
    Transportation Transport Agriculture Labor Labour Interior Veterans Affairs Housing Trade
    Industry Culture Media Sport Environment Work Pensions Business Foreign Home Northern Ireland
    Scotland Wales Constitutional International Development Communities Local Government
    """
)
"""Words of "Secretary of State", "Secretary for Work and Pensions": part of a title, not a name."""

INSTITUTIONS = _names(
    """
    Congress, Senate, House, Parliament, Commons, Lords, House of Representatives, House of Commons,
    House of Lords, White House, Kremlin, Pentagon, Downing Street, Bundestag, Knesset, Duma,
    Dail, Oireachtas, Supreme Court, High Court, Treasury, Whitehall, Holyrood, Stormont, Cabinet
    """
)

NOT_NAMES = _words(
    """
    PC PCs MP MPs MEP MEPs MSP MSPs AM AMs DVD DVDs CD CDs GMT BST EST PST ID IDs GDP GNP HIV Aids AIDS
    MP3 IT TV TVs CEO CEOs CFO PR SMS PDA PDAs GPS USB VAT IVF DNA CCTV ATM ATMs PIN PhD MBA QC OBE MBE
    CBE RAM CPU OK AGM IPO IPOs HQ Christmas Easter Ramadan Diwali Hanukkah Xmas Internet Web
    Tory Tories' Conservative Liberal Democratic Republican Parliamentary Socialist Communist
    Olympic Olympics Paralympic Paralympics Oscar Oscars Grammy Grammys Emmy Emmys
    """
)
"""Capitalised words that are not names: common acronyms, holidays, party adjectives, awards."""
"""Institutions named by one generic-looking word: organisations, even alone."""

DEMONYMS = _words(
    """
    American Americans British Briton Britons English Scottish Welsh Irish French German Germans
    Italian Italians Spanish Portuguese Dutch Belgian Swiss Austrian Swedish Norwegian Danish
    Finnish Icelandic Polish Czech Slovak Hungarian Romanian Bulgarian Greek Greeks Turkish Turks
    Russian Russians Ukrainian Ukrainians Belarusian Georgian Armenian Azerbaijani Estonian
    Latvian Lithuanian Serbian Croatian Bosnian Slovenian Albanian Macedonian Moldovan
    Israeli Israelis Palestinian Palestinians Egyptian Egyptians Jordanian Lebanese Syrian Syrians
    Iraqi Iraqis Iranian Iranians Saudi Saudis Emirati Qatari Kuwaiti Bahraini Omani Yemeni
    Libyan Tunisian Algerian Moroccan Sudanese Ethiopian Eritrean Somali Kenyan Ugandan Tanzanian
    Nigerian Ghanaian Senegalese Malian Congolese Angolan Zambian Zimbabwean African
    Chinese Japanese Korean Koreans Taiwanese Vietnamese Thai Malaysian Indonesian Filipino
    Indian Indians Pakistani Pakistanis Afghan Afghans Bangladeshi Nepali Lankan
    Canadian Canadians Mexican Mexicans Brazilian Argentine Argentinian Chilean Peruvian
    Colombian Venezuelan Cuban Haitian Australian Australians Kiwi European Europeans African
    Africans Asian Asians Arab Arabs Jewish Muslim Muslims Christian Christians Catholic
    Protestant Sunni Shia Shiite Kurdish Kurds Western Eastern Islamic Zionist Soviet Latin
    """
)

ORG_WORDS = _words(
    """
    Agency Authority Ministry Bank Council Union Party Corp Corporation Inc Ltd Plc LLC Group
    Association Organization Organisation Forces Army Navy Court University Institute Committee
    Commission News Times Herald Post Journal Gazette Tribune Company Fund Federation League Club
    FC Police Service Services Board Parliament Congress Senate Administration Department Office
    Cabinet Assembly Press Network Foundation Trust Bureau Command Brigades Movement Front
    Alliance Coalition Airlines Airways Motors Systems Technologies Holdings Partners Exchange
    Reserve Tribunal Guard Nations Ministry School College Hospital Church Council Centre Center
    Society Media Television TV Radio Broadcasting Wire Industries Energy Labs Bureau
    Secretariat Directorate Inspectorate Programme Program Mission Cooperative Syndicate Federation
    Co Cos Limited Partnership NV N.V. AG SA GmbH Bancorp Bancshares Petroleum Oil Capital Securities
    Investments Insurance Pharmaceuticals Communications Airline House Party Brigade Militia
    Research Bros Entertainment Records Studios Pictures Films Software Electronics Telecom
    Mobile Music Games Consulting Associates Ventures Computers Computing Networks Foods Brands
    Stores Retail Consortium Magazine Channel Orchestra Choir Band Records Theatre Theater
    Academy Festival Museum Gallery Prison Hotel Stadium Council Federation United Rovers
    Athletic Wanderers Albion
    """
)

PLACE_WORDS = _words(
    """
    Strip City River Sea Ocean Gulf Valley Province Island Islands Mountains Mountain Crossing
    Street Square Airport Port Bay Lake Coast Peninsula Desert Heights County Region District
    Harbour Harbor Canal Bridge Plain Plains Basin Delta Straits Strait Territory Territories
    Republic Kingdom Emirates Village Town Hills Park Road Avenue
    """
)

PLACES = _names(
    """
    Afghanistan, Albania, Algeria, Andorra, Angola, Argentina, Armenia, Australia, Austria,
    Azerbaijan, Bahamas, Bahrain, Bangladesh, Barbados, Belarus, Belgium, Belize, Benin, Bhutan,
    Bolivia, Bosnia, Botswana, Brazil, Brunei, Bulgaria, Burkina Faso, Burundi, Cambodia,
    Cameroon, Canada, Chad, Chile, China, Colombia, Comoros, Congo, Costa Rica, Croatia, Cuba,
    Cyprus, Czech Republic, Czechia, Denmark, Djibouti, Dominica, Dominican Republic, Ecuador,
    Egypt, El Salvador, Eritrea, Estonia, Eswatini, Ethiopia, Fiji, Finland, France, Gabon,
    Gambia, Georgia, Germany, Ghana, Greece, Grenada, Guatemala, Guinea, Guyana, Haiti, Honduras,
    Hungary, Iceland, India, Indonesia, Iran, Iraq, Ireland, Israel, Italy, Jamaica, Japan,
    Jordan, Kazakhstan, Kenya, Kiribati, Kosovo, Kuwait, Kyrgyzstan, Laos, Latvia, Lebanon,
    Lesotho, Liberia, Libya, Liechtenstein, Lithuania, Luxembourg, Madagascar, Malawi, Malaysia,
    Maldives, Mali, Malta, Mauritania, Mauritius, Mexico, Moldova, Monaco, Mongolia, Montenegro,
    Morocco, Mozambique, Myanmar, Namibia, Nauru, Nepal, Netherlands, New Zealand, Nicaragua,
    Niger, Nigeria, North Korea, North Macedonia, Norway, Oman, Pakistan, Palau, Palestine,
    Panama, Papua New Guinea, Paraguay, Peru, Philippines, Poland, Portugal, Qatar, Romania,
    Russia, Rwanda, Samoa, San Marino, Saudi Arabia, Senegal, Serbia, Seychelles, Sierra Leone,
    Singapore, Slovakia, Slovenia, Somalia, South Africa, South Korea, South Sudan, Spain,
    Sri Lanka, Sudan, Suriname, Sweden, Switzerland, Syria, Taiwan, Tajikistan, Tanzania,
    Thailand, Togo, Tonga, Trinidad, Tunisia, Turkey, Turkmenistan, Tuvalu, Uganda, Ukraine,
    United Arab Emirates, United Kingdom, United States, United States of America, Uruguay,
    Uzbekistan, Vanuatu, Vatican, Venezuela, Vietnam, Yemen, Zambia, Zimbabwe, Britain, England,
    Scotland, Wales, America, Europe, Africa, Asia, Antarctica, Gaza, Rafah, Khan Younis,
    West Bank, Jerusalem, Tel Aviv, Haifa, Ramallah, Beirut, Damascus, Amman, Baghdad, Tehran,
    Riyadh, Jeddah, Doha, Dubai, Abu Dhabi, Muscat, Sanaa, Cairo, Alexandria, Sinai, Tripoli,
    Tunis, Algiers, Rabat, Casablanca, Khartoum, Addis Ababa, Nairobi, Kampala, Lagos, Abuja,
    Accra, Dakar, Kinshasa, Johannesburg, Cape Town, Pretoria, Istanbul, Ankara, Athens, Rome,
    Milan, Naples, Madrid, Barcelona, Lisbon, Paris, Marseille, Lyon, London, Manchester,
    Birmingham, Edinburgh, Glasgow, Dublin, Belfast, Brussels, Antwerp, Amsterdam, Rotterdam,
    The Hague, Luxembourg City, Berlin, Hamburg, Munich, Frankfurt, Cologne, Vienna, Zurich,
    Geneva, Bern, Prague, Warsaw, Krakow, Budapest, Bucharest, Sofia, Belgrade, Zagreb,
    Ljubljana, Sarajevo, Copenhagen, Stockholm, Oslo, Helsinki, Reykjavik, Tallinn, Riga,
    Vilnius, Kyiv, Kiev, Kharkiv, Odesa, Odessa, Lviv, Moscow, St Petersburg, Minsk, Tbilisi,
    Yerevan, Baku, Kabul, Islamabad, Karachi, Lahore, New Delhi, Delhi, Mumbai, Kolkata,
    Chennai, Bangalore, Dhaka, Kathmandu, Colombo, Beijing, Shanghai, Hong Kong, Shenzhen,
    Guangzhou, Taipei, Tokyo, Osaka, Seoul, Pyongyang, Hanoi, Ho Chi Minh City, Bangkok,
    Jakarta, Manila, Kuala Lumpur, Sydney, Melbourne, Canberra, Auckland, Wellington,
    Washington, New York, Los Angeles, Chicago, Houston, San Francisco, Boston, Miami, Seattle,
    Atlanta, Dallas, Philadelphia, Detroit, Ottawa, Toronto, Montreal, Vancouver, Mexico City,
    Havana, Bogota, Caracas, Lima, Santiago, Buenos Aires, Montevideo, Brasilia, Sao Paulo,
    Rio de Janeiro, Quito, La Paz, Panama City, Crimea, Donbas, Kashmir, Tibet, Xinjiang,
    Kurdistan, Darfur, Sahel, Balkans, Caucasus, Middle East, Gulf, Mediterranean, Red Sea,
    Black Sea, Baltic, Scandinavia, Siberia, Arctic, Pacific, Atlantic, Latin America,
    Silicon Valley, Wall Street, Golan Heights, Lebanon, Negev, Galilee, Hebron, Nablus, Jenin,
    Alabama, Alaska, Arizona, Arkansas, California, Colorado, Connecticut, Delaware, Florida,
    Hawaii, Idaho, Illinois, Indiana, Iowa, Kansas, Kentucky, Louisiana, Maine, Maryland,
    Massachusetts, Michigan, Minnesota, Mississippi, Missouri, Montana, Nebraska, Nevada,
    New Hampshire, New Jersey, New Mexico, North Carolina, North Dakota, Ohio, Oklahoma, Oregon,
    Pennsylvania, Rhode Island, South Carolina, South Dakota, Tennessee, Texas, Utah, Vermont,
    Virginia, West Virginia, Wisconsin, Wyoming, Queensland, Victoria, Tasmania, New South Wales,
    Western Australia, South Australia, Northern Territory, Ontario, Quebec, Alberta,
    British Columbia, Manitoba, Saskatchewan, Nova Scotia, Northern Ireland, North America,
    South America, Central America, East Africa, West Africa, North Africa, Southeast Asia,
    Central Asia, East Asia, South Asia, Far East, Persian Gulf, Bavaria, Catalonia, Andalusia,
    Lombardy, Tuscany, Sicily, Sardinia, Corsica, Normandy, Brittany, Provence, Flanders,
    Wallonia, Siberia, Chechnya, Punjab, Bengal, Kerala, Hunan, Guangdong, Sichuan, Hubei,
    Okinawa, Hokkaido, Mindanao, Bali, Java, Sumatra, Borneo, Patagonia, Amazonia
    """
)

KNOWN_ORGS = _names(
    """
    Hamas, Hezbollah, Taliban, al-Qaida, al-Qaeda, Fatah, Nasdaq, Reuters, Interpol, Europol,
    Google, Apple, Microsoft, Amazon, Facebook, Meta, Twitter, Boeing, Airbus, Gazprom, Aramco,
    Toyota, Volkswagen, Samsung, Huawei, Tesla, Nvidia, Intel, IBM, Sony, Nokia, Siemens, Shell,
    Exxon, Chevron, Texaco, Pfizer, Moderna, Unilever, Nestle, Walmart, Greenpeace, Wikipedia,
    Labour, Labor, Conservatives, Tories, Democrats, Republicans, Greens, Kremlin, Pentagon,
    Congress, Senate, House, Parliament, Commons, Lords, Treasury, Whitehall, GOP, NATO, Nato, FBI, CIA,
    NHS, BBC, ITV, CNN, NBC, CBS, ABC, Fox, Sky, Yahoo, eBay, Vodafone, Barclays, HSBC, Chelsea,
    Arsenal, Liverpool FC, Celtic, Rangers, Juventus, Ofcom, Ofsted, Tesco, Sainsbury's, UKIP, EU
    """
)
"""Well-known organisations whose single-word names carry no organisation keyword."""
